/**
 * The shape STYLE.md asks for, checked: no stage below the CLI imports the CLI or its commands; no function in src/
 * over 60 lines and no file over 400, unless a `// size:` comment beside it says why.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const FILES = sources(SRC).map((file) => ({ file, rel: relative(SRC, file), text: readFileSync(file, 'utf8') }));

/** Functions (declarations, methods, arrows, function expressions) with their line counts. */
function functionLengths(file: string, text: string): Array<{ name: string; lines: number; line: number; reason: boolean }> {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: Array<{ name: string; lines: number; line: number; reason: boolean }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = (node as ts.FunctionDeclaration).name?.getText(sf) ?? '<anonymous>';
      const before = text.split('\n').slice(Math.max(0, start - 3), start + 1).join('\n');
      out.push({ name, lines: end - start + 1, line: start + 1, reason: /\/\/ size:/.test(before) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('source structure', () => {
  it('no module below the CLI imports cli/ or commands/', () => {
    const below = FILES.filter((f) => !f.rel.startsWith('cli/') && !f.rel.startsWith('commands/') && f.rel !== 'main.ts' && f.rel !== 'cli.ts');
    const offenders = below.filter((f) => /from '(\.\.?\/)+(cli|commands)\//.test(f.text)).map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it('host/ (files, paths, processes) is the bottom layer: it imports no stage above it', () => {
    const host = FILES.filter((f) => f.rel.startsWith('host/'));
    expect(host.length).toBeGreaterThan(3);
    // Types are free (they vanish in the bundle); errors.ts is the shared leaf every layer throws from.
    const offenders = host.filter((f) => /^import (?!type )[^;]*from '\.\.\/(?!errors\.js')/m.test(f.text)).map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it('no function over 60 lines without a written reason', () => {
    const long = FILES.flatMap((f) => functionLengths(f.file, f.text)
      .filter((fn) => fn.lines > 60 && !fn.reason)
      .map((fn) => `${f.rel}:${fn.line} ${fn.name} (${fn.lines} lines)`));
    expect(long).toEqual([]);
  });

  it('no file over 400 lines without a written reason', () => {
    const big = FILES.filter((f) => f.text.split('\n').length > 400 && !/\/\/ size:/.test(f.text.split('\n').slice(0, 15).join('\n'))).map((f) => f.rel);
    expect(big).toEqual([]);
  });

  it('the length check sees long functions (negative control)', () => {
    const body = Array.from({ length: 70 }, (_, i) => `  const x${i} = ${i};`).join('\n');
    expect(functionLengths('x.ts', `function long(): void {\n${body}\n}\n`)[0]?.lines).toBe(72);
  });
});
