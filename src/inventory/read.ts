/**
 * Read the host into records: catalog × files. Every failure of one entry is a Problem on that entry's record, so
 * status still reports every other entry.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { CERTIFICATE_AUTHORITIES, LEAVES, type CaEntry, type LeafEntry } from '../catalog.js';
import { yamlErrorText } from '../yaml.js';
import { errorMessage } from '../errors.js';
import { type HostPaths, hostPathOf, resolveUnderRoot, underRoot } from '../host/paths.js';
import { type FileKind, RefusedFileError, readBoundedText } from '../host/read.js';
import { yamlExpansionProblem } from '../yaml-guard.js';
import { type CertFacts, isSignedBy, keyMatchesCertificate, loadPrivateKey, parseCertificate } from '../pki/certificate.js';
import { certificateBlocks, privateKeyBlock, type KeyEncoding } from '../pki/pem.js';
import { identityDifferences } from './identity.js';
import { type CredentialDocument, type KubeconfigCredentialRefs, kubeconfigCredentialRefs, parseKubeconfigText } from './documents.js';
import type { CaRecord, Inventory, LeafRecord, Problem } from './records.js';

type Read<T> = { ok: true; value: T } | { ok: false; problem: Problem };

function readText(file: string, kind: FileKind = 'pem'): Read<string> {
  try {
    return { ok: true, value: readBoundedText(file, kind) };
  } catch (err) {
    if (err instanceof RefusedFileError) {
      return { ok: false, problem: { code: 'unreadable', file, message: err.detail, hint: err.hint ?? 'replace it with the real file' } };
    }
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem: {
        code: code === 'ENOENT' ? 'missing' : 'unreadable',
        file,
        message: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? errorMessage(err)})`,
        hint: code === 'ENOENT' ? 'restore it from a backup or regenerate it with kubeadm' : 'check its permissions',
      },
    };
  }
}

function parseCertText(file: string, text: string): Read<{ cert: CertFacts; chainAfterLeaf?: string }> {
  const blocks = certificateBlocks(text);
  const first = blocks[0];
  if (!first) {
    const truncated = text.includes('-----BEGIN CERTIFICATE-----');
    return {
      ok: false,
      problem: {
        code: 'unreadable',
        file,
        message: truncated ? 'holds a truncated or damaged PEM certificate' : 'holds no PEM certificate',
        hint: 'restore it from /var/lib/kube-cert-renewer/backups or regenerate it with kubeadm',
      },
    };
  }
  try {
    const cert = parseCertificate(first.der);
    // Decode the encoded parts now: DER that Node's reader accepts but strict DER refuses (trailing bytes, an
    // indefinite length) is this file's problem here, not a crash of the report later.
    void cert.keyUsage;
    // A file holding the leaf and then its chain: the renewal keeps what followed the leaf, byte for byte.
    return { ok: true, value: blocks.length > 1 ? { cert, chainAfterLeaf: text.slice(first.end) } : { cert } };
  } catch (err) {
    return {
      ok: false,
      problem: {
        code: 'unreadable',
        file,
        message: `holds a certificate that cannot be parsed (${errorMessage(err)})`,
        hint: 'restore it from /var/lib/kube-cert-renewer/backups or regenerate it with kubeadm',
      },
    };
  }
}

interface ParsedKey {
  key: KeyObject;
  encoding: KeyEncoding;
}

function parseKeyText(file: string, text: string): Read<ParsedKey> {
  const found = privateKeyBlock(text);
  const bad = (message: string, hint: string): Read<never> => ({
    ok: false,
    problem: { code: 'key-unreadable', file, message, hint },
  });
  if ('reason' in found) return bad(found.reason, 'restore the key from a backup; the certificate is useless without it');
  try {
    return { ok: true, value: { key: loadPrivateKey(found.block.der, found.encoding), encoding: found.encoding } };
  } catch (err) {
    return bad(`holds a private key that cannot be parsed (${errorMessage(err)})`, 'restore the key from a backup');
  }
}

function keyMatches(cert: CertFacts, key: ParsedKey): boolean {
  return keyMatchesCertificate(cert, key.key);
}

/** A file of the PKI or kubeconfig tree on this filesystem, its symbolic links resolved under --root. */
function hostFile(paths: HostPaths, dir: string, rel: string): string {
  return resolveUnderRoot(paths.root, join(dir, rel));
}

function readCa(entry: CaEntry, paths: HostPaths, localEtcd: boolean): CaRecord {
  const certPath = hostFile(paths, paths.pki, entry.cert);
  const keyPath = hostFile(paths, paths.pki, entry.key);
  const record: CaRecord = { entry, state: 'present', certPath, keyPath, hasKey: false, problems: [] };
  if (entry.topology === 'local-etcd' && !localEtcd) return { ...record, state: 'not-applicable' };
  const text = readText(certPath);
  if (!text.ok) {
    record.state = text.problem.code === 'missing' ? 'missing' : 'unreadable';
    record.problems.push(text.problem);
    return record;
  }
  const parsed = parseCertText(certPath, text.value);
  if (!parsed.ok) {
    record.state = 'unreadable';
    record.problems.push(parsed.problem);
    return record;
  }
  record.cert = parsed.value.cert;
  if (!existsSync(keyPath)) return record; // externally managed CA: a result, not a problem
  const keyText = readText(keyPath);
  const key = keyText.ok ? parseKeyText(keyPath, keyText.value) : keyText;
  if (!key.ok) {
    record.problems.push(key.problem);
    return record;
  }
  if (!keyMatches(parsed.value.cert, key.value)) {
    record.problems.push({
      code: 'key-mismatch', file: keyPath, message: `does not match ${certPath}`,
      hint: 'restore the CA key that belongs to this CA certificate; nothing signed by it can be renewed until then',
    });
    return record;
  }
  record.hasKey = true;
  return record;
}

interface Credential {
  cert: CertFacts;
  key?: ParsedKey;
  document?: CredentialDocument;
}

function readPkiLeaf(entry: LeafEntry & { kind: 'pki' }, paths: HostPaths, record: LeafRecord): Credential | undefined {
  const certPath = hostFile(paths, paths.pki, entry.cert);
  const keyPath = hostFile(paths, paths.pki, entry.key);
  record.certPath = certPath;
  record.files = [keyPath, certPath];
  if (!existsSync(certPath) && !existsSync(keyPath)) {
    record.state = 'missing';
    return undefined;
  }
  const text = readText(certPath);
  const parsed = text.ok ? parseCertText(certPath, text.value) : text;
  if (!parsed.ok) {
    record.state = parsed.problem.code === 'missing' ? 'missing' : 'unreadable';
    record.problems.push(parsed.problem);
    return undefined;
  }
  const keyText = readText(keyPath);
  const key = keyText.ok ? parseKeyText(keyPath, keyText.value) : keyText;
  if (!key.ok) {
    record.problems.push({ ...key.problem, code: 'key-unreadable' });
    return { cert: parsed.value.cert };
  }
  const document: CredentialDocument = { kind: 'pki-pair', certPath, keyPath, keyEncoding: key.value.encoding };
  if (parsed.value.chainAfterLeaf !== undefined) document.chainAfterLeaf = parsed.value.chainAfterLeaf;
  return { cert: parsed.value.cert, key: key.value, document };
}

/** A path a kubeconfig references: absolute ones are host paths, relative ones are relative to the kubeconfig. */
function resolveReferenced(paths: HostPaths, kubeconfigPath: string, ref: string): string {
  // Joined as host paths, so `..` stops at the host's `/`, which is the root (joined under the root, it would not).
  const hostPath = posix.join(isAbsolute(ref) ? '/' : hostPathOf(paths.root, dirname(kubeconfigPath)), ref);
  return resolveUnderRoot(paths.root, underRoot(paths.root, hostPath));
}

interface CredentialTexts {
  certText: string;
  keyText: string;
  certSource: string;
  keySource: string;
  form: 'embedded' | 'file';
}

/**
 * The client certificate and key a kubeconfig holds (embedded data) or references (files, resolved under the root).
 * Undefined, with a problem on the record, when a referenced certificate cannot be read.
 */
function credentialTexts(
  entry: LeafEntry, paths: HostPaths, file: string, refs: KubeconfigCredentialRefs, record: LeafRecord,
): CredentialTexts | { invalid: string } | undefined {
  if (refs.certData) {
    return {
      certText: Buffer.from(refs.certData, 'base64').toString('utf8'),
      keyText: refs.keyData ? Buffer.from(refs.keyData, 'base64').toString('utf8') : '',
      certSource: file, keySource: file, form: 'embedded',
    };
  }
  if (!refs.certFile) return { invalid: 'has no client certificate for its user' };
  const certSource = resolveReferenced(paths, file, refs.certFile);
  const keySource = refs.keyFile ? resolveReferenced(paths, file, refs.keyFile) : certSource;
  record.certPath = certSource;
  record.rotatedByKubelet = entry.name === 'kubelet.conf';
  const c = readText(certSource);
  if (!c.ok) {
    record.state = 'unreadable';
    record.problems.push({
      code: 'referenced-file-missing',
      file: certSource,
      message: `${c.problem.message} (referenced by client-certificate in ${file})`,
      hint: entry.name === 'kubelet.conf'
        ? 'the kubelet writes this file when it rotates its client certificate; check the kubelet'
        : 'restore the file or point the kubeconfig at an existing certificate',
    });
    return undefined;
  }
  const k = keySource === certSource ? c : readText(keySource);
  return { certText: c.value, keyText: k.ok ? k.value : '', certSource, keySource, form: 'file' };
}

function readKubeconfigLeaf(
  entry: LeafEntry & { kind: 'kubeconfig' },
  paths: HostPaths,
  record: LeafRecord,
): Credential | undefined {
  const file = hostFile(paths, paths.kubernetes, entry.file);
  record.certPath = file;
  record.files = [file];
  const text = readText(file, 'kubeconfig');
  if (!text.ok) {
    record.state = text.problem.code === 'missing' ? 'missing' : 'unreadable';
    if (text.problem.code !== 'missing') record.problems.push(text.problem);
    return undefined;
  }
  const invalid = (message: string, hint: string, at = file): undefined => {
    record.state = 'unreadable';
    record.problems.push({ code: 'kubeconfig-invalid', file: at, message, hint });
    return undefined;
  };
  const bomb = yamlExpansionProblem(text.value, file);
  if (bomb) return invalid(bomb, 'restore it from a backup or regenerate it with kubeadm init phase kubeconfig');
  let refs;
  try {
    refs = kubeconfigCredentialRefs(parseKubeconfigText(text.value, file));
  } catch (err) {
    const reason = yamlErrorText(err);
    return invalid(`is not a valid kubeconfig: ${reason}`, `restore it from a backup or regenerate it with kubeadm init phase kubeconfig`);
  }

  const texts = credentialTexts(entry, paths, file, refs, record);
  if (!texts) return undefined;
  if ('invalid' in texts) return invalid(texts.invalid, 'this kubeconfig does not use certificate authentication; nothing to renew');
  const { certText, certSource, form } = texts;
  const parsed = parseCertText(certSource, certText);
  if (!parsed.ok) {
    record.state = 'unreadable';
    record.problems.push(
      form === 'embedded'
        ? { ...parsed.problem, message: `client-certificate-data ${parsed.problem.message.replace(/^holds /, 'is ')}` }
        : parsed.problem,
    );
    return undefined;
  }
  return kubeconfigCredential(file, text.value, refs, texts, parsed.value.cert, record);
}

/** The kubeconfig's document (kept even with a broken key: a forced renewal replaces the key and repairs the entry). */
function kubeconfigCredential(
  file: string, text: string, refs: KubeconfigCredentialRefs, texts: CredentialTexts, cert: CertFacts, record: LeafRecord,
): Credential {
  const { keyText, certSource, keySource, form } = texts;
  const key = parseKeyText(keySource, keyText);
  const fallbackEncoding: KeyEncoding = cert.publicKey.algorithm === 'ECDSA' ? 'sec1' : 'pkcs1';
  const document: CredentialDocument = {
    kind: 'kubeconfig', path: file, text, form, userName: refs.userName,
    keyEncoding: key.ok ? key.value.encoding : fallbackEncoding,
  };
  if (refs.clusterName) document.clusterName = refs.clusterName;
  if (refs.caData) document.caData = refs.caData;
  if (form === 'file') {
    document.certFile = certSource;
    document.keyFile = keySource;
  }
  if (!key.ok) {
    const problem = form === 'embedded'
      ? { ...key.problem, message: `client-key-data ${key.problem.message.replace(/^holds /, 'is ')}` }
      : key.problem;
    record.problems.push(problem);
    return { cert, document };
  }
  return { cert, key: key.value, document };
}

function readLeaf(entry: LeafEntry, paths: HostPaths, cas: CaRecord[], localEtcd: boolean): LeafRecord {
  const record: LeafRecord = {
    entry, state: 'present', certPath: '', files: [], rotatedByKubelet: false, problems: [],
  };
  if (entry.topology === 'local-etcd' && !localEtcd) {
    record.state = 'not-applicable';
    record.certPath = entry.kind === 'pki' ? hostFile(paths, paths.pki, entry.cert) : hostFile(paths, paths.kubernetes, entry.file);
    return record;
  }
  const credential = entry.kind === 'pki' ? readPkiLeaf(entry, paths, record) : readKubeconfigLeaf(entry, paths, record);
  if (!credential) {
    if (record.state === 'missing' && !entry.optional) {
      record.problems.push({
        code: 'missing', file: record.certPath, message: 'does not exist',
        hint: `regenerate it with kubeadm (kubeadm init phase ${entry.kind === 'pki' ? 'certs' : 'kubeconfig'} ...)`,
      });
    }
    return record;
  }
  record.cert = credential.cert;
  const differences = identityDifferences(entry.identity, credential.cert);
  if (differences.length > 0) {
    record.problems.push({
      code: 'identity-differs', file: record.certPath, message: `is not the certificate kubeadm makes for ${entry.name}: ${differences.join('; ')}`,
      hint: 'renewal keeps this identity as it is; if it is not deliberate, regenerate the certificate with kubeadm',
    });
  }
  if (credential.document) record.document = credential.document;
  if (credential.key) {
    record.keyEncoding = credential.key.encoding;
    record.keyMatches = keyMatches(credential.cert, credential.key);
    if (!record.keyMatches) {
      const keyFile = credential.document?.kind === 'pki-pair' ? credential.document.keyPath
        : credential.document?.kind === 'kubeconfig' && credential.document.keyFile ? credential.document.keyFile
          : record.certPath;
      record.problems.push({
        code: 'key-mismatch', file: keyFile, message: `does not match the certificate in ${record.certPath}`,
        hint: 'restore the matching pair from /var/lib/kube-cert-renewer/backups, or renew it with kube-cert-renewer renew ' + entry.name,
      });
    }
  }
  const ca = cas.find((c) => c.entry.name === entry.ca);
  if (ca?.cert) {
    record.signedByCA = isSignedBy(credential.cert, ca.cert);
    if (!record.signedByCA && !record.rotatedByKubelet) {
      record.problems.push({
        code: 'not-signed-by-ca', file: record.certPath, message: `is not signed by the ${entry.ca} CA (${ca.certPath})`,
        hint: 'this certificate belongs to another cluster or CA; regenerate it with kubeadm or restore the right CA',
      });
    } else if (!record.signedByCA) {
      record.problems.push({
        code: 'not-signed-by-ca', file: record.certPath, message: `is not signed by the ${entry.ca} CA (${ca.certPath})`,
        hint: 'the kubelet holds a client certificate from another CA; check kubelet certificate rotation',
      });
    }
  }
  return record;
}

export function readInventory(paths: HostPaths): Inventory {
  const localEtcd = existsSync(hostFile(paths, paths.pki, 'etcd/ca.crt')) || existsSync(hostFile(paths, paths.manifests, 'etcd.yaml'));
  const cas = CERTIFICATE_AUTHORITIES.map((e) => readCa(e, paths, localEtcd));
  const leaves = LEAVES.map((e) => readLeaf(e, paths, cas, localEtcd));
  return { localEtcd, cas, leaves };
}
