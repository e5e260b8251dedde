import { describe, expect, it } from 'vitest';
import { expandedNodeCount, yamlExpansionProblem } from './yaml-guard.js';

function bomb(levels: number, width: number): string {
  const lines = [`a: &a [${Array(width).fill('"x"').join(',')}]`];
  let prev = 'a';
  for (let i = 1; i < levels; i++) {
    const n = `l${i}`;
    lines.push(`${n}: &${n} [${Array(width).fill(`*${prev}`).join(',')}]`);
    prev = n;
  }
  return `${lines.join('\n')}\n`;
}

describe('yamlExpansionProblem', () => {
  it('refuses a billion-laughs document fast', () => {
    const t0 = Date.now();
    expect(yamlExpansionProblem(bomb(10, 9), 'f.yaml')).toMatch(/more than 100000 nodes/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('accepts aliases that stay small, and documents without any', () => {
    expect(yamlExpansionProblem(bomb(3, 3), 'f.yaml')).toBeUndefined();
    expect(yamlExpansionProblem('a: 1\nb: "*not an alias"\nc: x*y\n', 'f.yaml')).toBeUndefined();
  });

  it('counts expanded nodes exactly up to the limit', () => {
    const shared = [1, 2, 3];
    expect(expandedNodeCount({ a: shared, b: shared }, 100)).toBe(9);
    expect(expandedNodeCount({ a: shared, b: shared }, 5)).toBe(6);
  });

  it('the limit is inclusive', () => {
    // 1 (stream) + 1 (mapping) + 3 × (1 list + 3 items) = 14 nodes
    expect(yamlExpansionProblem('a: &a [1,2,3]\nb: *a\nc: *a\n', 'f', 14)).toBeUndefined();
    expect(yamlExpansionProblem('a: &a [1,2,3]\nb: *a\nc: *a\n', 'f', 13)).toMatch(/more than 13 nodes/);
  });

  it('leaves syntax errors to the parser that reads the file', () => {
    expect(yamlExpansionProblem('a: *missing\n', 'f')).toBeUndefined();
  });
});
