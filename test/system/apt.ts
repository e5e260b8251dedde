// Debian tools the tests need, installed with apt-get when missing: CI machines start clean.
// (scripts/package.mjs has the same for the packaging tools; a script cannot import from the tests.)
import { execFileSync } from 'node:child_process';

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs each Debian package (name → a command it provides) whose command is missing. Needs root then. */
export function ensureDebianTools(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([, command]) => !hasCommand(command)).map(([name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}: install them (apt-get install ${missing.join(' ')})`);
  process.stderr.write(`installing ${missing.join(' ')} (apt-get)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}
