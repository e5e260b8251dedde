// One kubeadm fixture per test file, copied for each destructive test: `const trees = useFixtureCopies({...})` at
// the top of a file registers the beforeAll/afterAll hooks; `trees.copy(config)` gives a fresh root with that config.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Fixture, type FixtureOptions, createKubeadmTree, extractKubeconfigCredentials } from './kubeadm-fixture.js';
import { readCert } from './openssl.js';
import { copyTree, writeConfig } from './cli.js';

export const CONFIG_HEADER = 'apiVersion: kube-cert-renewer.io/v1alpha1\nkind: RenewerConfiguration\n';

export interface FixtureCopies {
  /** the pristine fixture (never run against) */
  readonly base: Fixture;
  /** a copy of the fixture with `config` (YAML without apiVersion/kind) as its config.yaml; removed after the file */
  copy(config: string): string;
  /** an empty temp dir, removed after the file */
  scratch(): string;
}

export function useFixtureCopies(options: FixtureOptions = {}): FixtureCopies {
  const dirs: string[] = [];
  let base: Fixture | undefined;
  const scratch = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'kcr-tree-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    base = await createKubeadmTree(scratch(), { reuseKeys: true, ...options });
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return {
    get base(): Fixture {
      if (!base) throw new Error('the fixture is created in beforeAll');
      return base;
    },
    copy(config: string): string {
      const root = copyTree(this.base.root);
      dirs.push(root);
      writeConfig(root, CONFIG_HEADER + config);
      return root;
    },
    scratch,
  };
}

/** state.json of a tree. */
export function stateOf(root: string): Record<string, any> {
  return JSON.parse(readFileSync(join(root, 'var/lib/kube-cert-renewer/state.json'), 'utf8')) as Record<string, any>;
}

/** The certificate at a host path as openssl reads it: PEM files directly, embedded kubeconfig credentials decoded. */
export function certOf(root: string, hostPath: string): ReturnType<typeof readCert> {
  const file = join(root, hostPath);
  return readCert(file.endsWith('.conf') ? extractKubeconfigCredentials(file, root).certPem : file);
}

/**
 * Fixture trees made on demand within one test file, all removed after it: `const trees = useTrees('kcr-renew-')`,
 * then `await trees.make(options)` in a test; `trees.track(dir)` adds a directory made some other way.
 */
export function useTrees(prefix: string): { make(options: FixtureOptions): Promise<Fixture>; track(dir: string): string } {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return {
    make: (options) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return createKubeadmTree(dir, { reuseKeys: true, ...options });
    },
    track: (dir) => {
      dirs.push(dir);
      return dir;
    },
  };
}
