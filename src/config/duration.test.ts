import { describe, expect, it } from 'vitest';
import { durationTooLong, formatDuration, humanDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['720h', 720 * 3_600_000],
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['1d12h', 36 * 3_600_000],
    ['45s', 45_000],
    ['0', 0],
    [' 7d ', 7 * 86_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '30x', '1.5d', '-1d', 'd', '30m1h', '1 h', 'thirty days'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [365 * 86_400_000, '365d'],
    [90 * 60_000, '1h30m'],
    [0, '0'],
    [86_400_000 + 1_000, '1d1s'],
  ])('%d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('humanDuration', () => {
  it.each([
    [-1, 'expired'],
    [59_000, '59s'],
    [119 * 60_000, '119m'],
    [47 * 3_600_000, '47h'],
    [364 * 86_400_000 + 5, '364d'],
    [3650 * 86_400_000, '10y'],
  ])('%d → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('durations too long to be meant', () => {
  it.each(['999999999999d', '365001d', '99999999999999999999s'])('%s is refused and said to be too long', (text) => {
    expect(parseDuration(text)).toBeUndefined();
    expect(durationTooLong(text)).toBe('durations are at most 365000d (1000 years)');
  });

  it('1000 years is the longest accepted', () => {
    expect(parseDuration('365000d')).toBe(365000 * 86_400_000);
    expect(durationTooLong('365000d')).toBeUndefined();
    expect(durationTooLong('thirty days')).toBeUndefined();
  });
});
