// The Prometheus text exposition format, parsed strictly enough to catch a malformed textfile (node_exporter's
// textfile collector drops a file with one bad line). Sample values and labels as numbers and strings.
import { expect } from 'vitest';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample and each metric's TYPE; fails on a malformed line or a sample before its TYPE line. */
export function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  expect(text.endsWith('\n'), 'ends with a newline').toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (gauge|counter|untyped|histogram|summary)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `valid sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    const body = m?.[2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const l = re.exec(body);
      expect(l, `labels of ${line}`).not.toBeNull();
      labels[l?.[1] as string] = (l?.[2] as string).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      at = re.lastIndex;
    }
    expect(types.has(m?.[1] as string), `${m?.[1]} has a TYPE line before its samples`).toBe(true);
    samples.push({ name: m?.[1] as string, labels, value: Number(m?.[3]) });
  }
  return { samples, types };
}

/** The value of the one sample of `name` with these labels (a subset of its labels); fails when several match. */
export const one = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `${name}${JSON.stringify(labels)} appears once`).toBeLessThanOrEqual(1);
  return found[0]?.value;
};
