// Debian packages a script or test needs, installed with apt-get when missing: CI machines start clean, and only
// Debian's repositories are reachable. The one copy of this helper: npm test (scripts/test.mjs), the packaging
// (scripts/package.mjs) and the tests (test/units.test.ts, test/system) each keep their own list and call it.
import { execFileSync } from 'node:child_process';

function present(commandOrPath) {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', commandOrPath], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs each Debian package (package name → a command it provides, or an absolute path it installs) whose command
 * is missing. Installing needs root; without it, throws naming the packages and the command to run.
 */
export function ensureDebianPackages(packages, say = (text) => process.stderr.write(`${text}\n`)) {
  const missing = Object.entries(packages).filter(([, command]) => !present(command)).map(([name]) => name);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(' ')}: install them (apt-get install ${missing.join(' ')}) or run as root`);
  }
  say(`installing ${missing.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  return missing;
}
