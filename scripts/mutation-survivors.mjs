#!/usr/bin/env node
// Lists the mutants that survived the last `npm run mutation` (from reports/mutation/mutation.json), per file:
// line, mutator and replacement, for the README's testing notes. `node scripts/mutation-survivors.mjs [FILE...]`
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
const only = process.argv.slice(2);
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  if (only.length > 0 && !only.some((f) => file.endsWith(f))) continue;
  const lines = source.split('\n');
  const count = (s) => mutants.filter((m) => m.status === s).length;
  const killed = count('Killed') + count('Timeout');
  const valid = killed + count('Survived') + count('NoCoverage');
  console.log(`\n${file}: ${valid ? ((100 * killed) / valid).toFixed(2) : 'n/a'}% (${killed}/${valid})`);
  for (const m of mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
    const { line, column } = m.location.start;
    const code = lines[line - 1].trim().slice(0, 110);
    console.log(`  ${m.status === 'NoCoverage' ? 'NOCOV' : 'SURV '} ${line}:${column} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '').slice(0, 80)}\n        ${code}`);
  }
}
