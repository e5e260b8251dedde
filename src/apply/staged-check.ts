/**
 * Before an interrupted run is rolled forward, its staged files are checked again, independently of how they were
 * made: every file is there, kubeconfigs parse and carry a client credential, the certificate is the one the journal
 * names (serial), its key matches it, and its signature verifies against the CA certificate on disk. A staged file
 * damaged between the crash and the next run (disk error, an operator's editor, a truncated write) is never put in
 * place: the run is discarded and the renewal is done afresh.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LEAVES, findCa } from '../catalog.js';
import type { HostPaths } from '../host/paths.js';
import { kubeconfigCredentialRefs, parseKubeconfigText } from '../inventory/documents.js';
import type { JournalEntry } from './transaction.js';

interface Credential {
  certs: string[];
  keys: string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function collectPem(text: string, into: Credential): void {
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1] === 'CERTIFICATE') into.certs.push(m[0]);
    else if (m[1]?.endsWith('PRIVATE KEY')) into.keys.push(m[0]);
  }
}

function collectKubeconfig(text: string, file: string, into: Credential): void {
  const refs = kubeconfigCredentialRefs(parseKubeconfigText(text, file));
  if (refs.certData) collectPem(Buffer.from(refs.certData, 'base64').toString('utf8'), into);
  if (refs.keyData) collectPem(Buffer.from(refs.keyData, 'base64').toString('utf8'), into);
}

const sameSerial = (a: string, b: string): boolean => a.replace(/^0+/, '').toUpperCase() === b.replace(/^0+/, '').toUpperCase();

/** Why the staged files of `entry` must not be rolled forward, or undefined when they are sound. */
export function stagedEntryProblem(paths: HostPaths, runDir: string, entry: JournalEntry): string | undefined {
  const leaf = LEAVES.find((l) => l.name === entry.name);
  if (!leaf) return `${entry.name} is not a catalog entry`;
  const found: Credential = { certs: [], keys: [] };
  for (const f of entry.files) {
    const staged = join(runDir, f.staged);
    let text: string;
    try {
      text = readFileSync(staged, 'utf8');
    } catch (err) {
      return `${staged}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
    try {
      if (basename(f.hostPath).endsWith('.conf') || !text.includes('-----BEGIN')) collectKubeconfig(text, staged, found);
      else collectPem(text, found);
    } catch (err) {
      return `${staged}: does not parse (${(err as Error).message})`;
    }
  }
  return credentialProblem(paths, entry, leaf.ca, found);
}

function credentialProblem(paths: HostPaths, entry: JournalEntry, caName: Parameters<typeof findCa>[0], found: Credential): string | undefined {
  let cert: X509Certificate | undefined;
  try {
    cert = found.certs.map((pem) => new X509Certificate(pem)).find((c) => sameSerial(c.serialNumber, entry.newSerial));
  } catch (err) {
    return `${entry.name}: a staged certificate does not parse (${(err as Error).message})`;
  }
  if (!cert) return `${entry.name}: no staged certificate with serial ${entry.newSerial}`;
  const keyPem = found.keys[0];
  if (!keyPem) return `${entry.name}: no staged private key`;
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return `${entry.name}: the staged key does not match the staged certificate`;
  } catch (err) {
    return `${entry.name}: the staged key does not parse (${(err as Error).message})`;
  }
  const caFile = join(paths.pki, findCa(caName).cert);
  try {
    const ca = new X509Certificate(readFileSync(caFile));
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return `${entry.name}: the staged certificate is not signed by ${caFile}`;
  } catch (err) {
    return `${entry.name}: ${caFile} cannot be read to check the staged certificate (${(err as Error).message})`;
  }
  return undefined;
}
