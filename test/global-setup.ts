import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Integration tests drive the real bundled CLI, so build it once before any test file runs. */
export default function setup(): void {
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
