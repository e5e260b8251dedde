/** Independent checks of a renewed entry: openssl reads the files before and after a run. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { expect } from 'vitest';
import { type Fixture, extractKubeconfigCredentials } from './kubeadm-fixture.js';
import { expectKeyMatches, expectSameIdentity, expectSignedBy, keyInfo, publicKeyOfCert, readCert } from './openssl.js';

export interface Credential {
  certPem: string;
  keyPem: string;
  files: string[];
}

/** The current certificate and key of an entry, read the way openssl users would (kubeconfig data decoded). */
export function credentialOf(fx: Fixture, name: string): Credential {
  const e = fx.entry(name);
  if (e.kind === 'kubeconfig') {
    const kc = e.kubeconfigPath ?? e.certPath;
    const c = extractKubeconfigCredentials(kc, fx.root);
    return { certPem: c.certPem, keyPem: c.keyPem, files: [kc] };
  }
  return { certPem: readFileSync(e.certPath, 'utf8'), keyPem: readFileSync(e.keyPath as string, 'utf8'), files: [e.certPath, e.keyPath as string] };
}

export function caCertPath(fx: Fixture, name: string): string {
  const e = fx.entry(name);
  return fx.entry(e.caName ?? 'ca').certPath;
}

/**
 * Everything issue 3 asks of a renewed entry: chain verifies against the right CA, identity identical, key matches,
 * serial and key changed, same key type/size/encoding, validity as configured, modes.
 */
export function expectRenewed(fx: Fixture, name: string, before: Credential, validityDays: number, runAt: Date): void {
  const after = credentialOf(fx, name);
  expectSignedBy(caCertPath(fx, name), after.certPem);
  expectSameIdentity(before.certPem, after.certPem);
  expectKeyMatches(after.certPem, after.keyPem);
  const oldInfo = readCert(before.certPem);
  const newInfo = readCert(after.certPem);
  expect(newInfo.serial, `${name}: serial`).not.toBe(oldInfo.serial);
  expect(publicKeyOfCert(after.certPem), `${name}: key`).not.toBe(publicKeyOfCert(before.certPem));
  const oldKey = keyInfo(before.keyPem);
  const newKey = keyInfo(after.keyPem);
  expect(newKey, `${name}: key type, size and encoding`).toEqual(oldKey);
  expect(newInfo.keyUsage, `${name}: key usage`).toEqual(['Digital Signature', 'Key Encipherment']);
  expect(newInfo.criticalExtensions).toEqual(expect.arrayContaining(['X509v3 Key Usage', 'X509v3 Basic Constraints']));
  expect(newInfo.isCA).toBe(false);
  const lifetime = newInfo.notAfter.getTime() - runAt.getTime();
  expect(Math.abs(lifetime - validityDays * 86_400_000), `${name}: validity`).toBeLessThan(5 * 60_000);
  expect(runAt.getTime() - newInfo.notBefore.getTime(), `${name}: notBefore backdated ~5 min`).toBeGreaterThan(4 * 60_000);
  expect(runAt.getTime() - newInfo.notBefore.getTime()).toBeLessThan(7 * 60_000);
  for (const f of after.files) {
    const mode = statSync(f).mode & 0o777;
    expect(mode, `${f}: mode`).toBe(f.endsWith('.crt') ? 0o644 : 0o600);
  }
}

/** A renewed kubeconfig keeps every field but the client certificate and key. */
export function expectKubeconfigOnlyCredentialsChanged(oldText: string, newText: string): void {
  const strip = (t: string): unknown => {
    const doc = yaml.load(t) as { users: Array<{ user: Record<string, unknown> }> };
    for (const u of doc.users) {
      delete u.user['client-certificate-data'];
      delete u.user['client-key-data'];
    }
    return doc;
  };
  expect(strip(newText)).toEqual(strip(oldText));
  expect(newText).not.toBe(oldText);
}

export function stateFile(root: string): { entries: Record<string, { renewedAt: string; oldSerial: string; newSerial: string; oldNotAfter: string; newNotAfter: string; runId: string }> } {
  return JSON.parse(readFileSync(join(root, 'var/lib/kube-cert-renewer/state.json'), 'utf8'));
}
