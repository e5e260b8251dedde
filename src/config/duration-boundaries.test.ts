/** humanDuration switches unit exactly where kubeadm's check-expiration does: each threshold from both sides. */
import { describe, expect, it } from 'vitest';
import { humanDuration } from './duration.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration thresholds', () => {
  it.each([
    [0, '0s'],
    [119 * S + 999, '119s'],
    [120 * S, '2m'],
    [120 * M - 1, '119m'],
    [120 * M, '2h'],
    [48 * H - 1, '47h'],
    [48 * H, '2d'],
    [1094 * D, '1094d'],
    [1095 * D, '3y'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
