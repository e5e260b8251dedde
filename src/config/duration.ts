/** Durations as operators write them: `30d`, `720h`, `90m`, `1h30m`, `45s`, or `0`. */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * The longest duration any setting takes: 1000 years. Longer ones only come from typos, and past about 285,000
 * years a date computed from them is invalid (Date holds ±8.64e15 ms), which once printed "valid for Infinityy".
 */
export const MAX_DURATION_MS = 1000 * 365 * UNIT_MS.d;

function sumOf(match: RegExpExecArray): number {
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * UNIT_MS.d + Number(h ?? 0) * UNIT_MS.h + Number(m ?? 0) * UNIT_MS.m + Number(s ?? 0) * UNIT_MS.s;
}

/** Milliseconds for a duration string, or undefined when it is not one or is longer than MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = DURATION.exec(trimmed);
  if (!match || trimmed === '') return undefined;
  const ms = sumOf(match);
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** What to do when `text` is a well-formed duration beyond MAX_DURATION_MS; undefined otherwise. */
export function durationTooLong(text: string): string | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const ms = sumOf(match);
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? undefined : `durations are at most ${MAX_DURATION_MS / UNIT_MS.d}d (1000 years)`;
}

/** The shortest exact form of a duration: 31536000000 → `365d`, 5400000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = Math.round(ms / 1000);
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/**
 * kubeadm's residual-time style (`364d`, `9y`, `23h`, `59m`): the largest whole unit, for tables.
 * Negative values read `expired`.
 */
export function humanDuration(ms: number): string {
  if (ms < 0) return 'expired';
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 3 * 365) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
