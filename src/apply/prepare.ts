/**
 * Prepare renewals in memory: new keys (generated in parallel on the thread pool), new certificates, and the exact
 * bytes of every file to write. Nothing touches the disk here, and every result is checked (parses, key matches,
 * chains to its CA) before the transaction may write it.
 */
import { type KeyObject, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type FileWrite, renderCredential } from '../inventory/documents.js';
import type { CaRecord, Inventory, LeafRecord } from '../inventory/records.js';
import { isSignedBy, keyMatchesCertificate, parseCertificate } from '../pki/certificate.js';
import { issueCertificate } from '../pki/issue.js';
import { exportPrivateKey, generateKeyLike } from '../pki/keys.js';
import { certificateBlocks, toPem } from '../pki/pem.js';
import type { PlanItem } from '../plan/plan.js';

export interface PreparedRenewal {
  item: PlanItem;
  newSerial: string;
  newNotAfter: Date;
  writes: FileWrite[];
}

export interface PreparedFailure {
  item: PlanItem;
  error: string;
}

/** Backdate notBefore a little, as kubeadm does, so clocks slightly behind still accept the certificate. */
export const NOT_BEFORE_BACKDATE = 5 * 60_000;

/** Each CA's private key, loaded once per run however many leaves it signs. */
type CaKeys = (ca: CaRecord) => KeyObject;

function caKeyLoader(): CaKeys {
  const keys = new Map<string, KeyObject>();
  return (ca) => {
    let key = keys.get(ca.keyPath);
    if (!key) {
      key = createPrivateKey(readFileSync(ca.keyPath));
      keys.set(ca.keyPath, key);
    }
    return key;
  };
}

async function prepareOne(leaf: LeafRecord, inventory: Inventory, item: PlanItem, now: Date, caKeys: CaKeys): Promise<PreparedRenewal> {
  const ca = inventory.cas.find((c) => c.entry.name === leaf.entry.ca);
  if (!leaf.cert || !ca?.cert || !ca.hasKey) throw new Error('the certificate or its CA is not usable');
  const caKey = caKeys(ca);
  const pair = await generateKeyLike(leaf.cert.publicKey);
  const certPem = issueCertificate({
    template: leaf.cert,
    publicKey: pair.publicKey,
    ca: ca.cert,
    caKey,
    notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE),
    notAfter: item.newNotAfter,
  });
  const keyPem = exportPrivateKey(pair.privateKey, leaf.keyEncoding);
  const issued = parseCertificate(certificateBlocks(certPem)[0]?.der ?? Buffer.alloc(0));
  if (!keyMatchesCertificate(issued, pair.privateKey) || !isSignedBy(issued, ca.cert)) {
    throw new Error('the new certificate failed its own check (key or signature); nothing was written');
  }
  const document = leaf.document;
  if (!document) throw new Error('its files could not be read completely');
  // The CA certificate as the inventory read it from disk: a kubeconfig whose embedded CA differs gets this one.
  const caPem = leaf.entry.kind === 'kubeconfig' ? toPem('CERTIFICATE', ca.cert.der) : undefined;
  const writes = renderCredential(document, certPem, keyPem, caPem);
  return { item, newSerial: issued.serial, newNotAfter: issued.notAfter, writes };
}

/** A forced renewal over a lost key has no document yet: rebuild one from the entry's paths. */
function ensureDocument(leaf: LeafRecord): void {
  if (leaf.document || leaf.entry.kind !== 'pki') return;
  const [keyPath, certPath] = leaf.files;
  if (!keyPath || !certPath) return;
  leaf.document = { kind: 'pki-pair', certPath, keyPath, keyEncoding: 'pkcs1' };
  if (leaf.cert?.publicKey.algorithm === 'ECDSA') leaf.document.keyEncoding = 'sec1';
  leaf.keyEncoding ??= leaf.document.keyEncoding;
}

export async function prepareRenewals(
  inventory: Inventory,
  items: PlanItem[],
  now: Date,
): Promise<{ prepared: PreparedRenewal[]; failed: PreparedFailure[] }> {
  const caKeys = caKeyLoader();
  const results = await Promise.allSettled(
    items.map((item) => {
      const leaf = inventory.leaves.find((l) => l.entry.name === item.name);
      if (!leaf) return Promise.reject(new Error('not in the inventory'));
      ensureDocument(leaf);
      return prepareOne(leaf, inventory, item, now, caKeys);
    }),
  );
  const prepared: PreparedRenewal[] = [];
  const failed: PreparedFailure[] = [];
  results.forEach((r, i) => {
    const item = items[i] as PlanItem;
    if (r.status === 'fulfilled') prepared.push(r.value);
    else failed.push({ item, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  return { prepared, failed };
}
