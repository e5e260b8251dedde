/**
 * One store shape for PKI pairs and kubeconfigs: reading returns a document that rendering takes back, so a renewal
 * rewrites only the certificate, key (and, when the CA on disk changed, CA) data and keeps every other byte.
 * Documents hold where things are and how they are encoded, never the old key itself.
 */
import { dumpYaml } from '../yaml.js';
import { parseKubeconfigText } from './kubeconfig-yaml.js';
import type { KeyEncoding } from '../pki/pem.js';

export interface FileWrite {
  /** Path on this filesystem. */
  path: string;
  content: string;
  mode: number;
}

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;
export const KUBECONFIG_MODE = 0o600;

export interface PkiPairDocument {
  kind: 'pki-pair';
  certPath: string;
  keyPath: string;
  keyEncoding: KeyEncoding;
  /** The certificates that followed the leaf in its file (its chain), kept byte for byte by a renewal. */
  chainAfterLeaf?: string;
}

export interface KubeconfigDocument {
  kind: 'kubeconfig';
  path: string;
  text: string;
  /** embedded: client-certificate-data; file: client-certificate / client-key paths. */
  form: 'embedded' | 'file';
  userName: string;
  clusterName?: string;
  keyEncoding: KeyEncoding;
  /** certificate-authority-data exactly as in the file (base64), when present. */
  caData?: string;
  /** For the file form: the referenced files on this filesystem. */
  certFile?: string;
  keyFile?: string;
}

export type CredentialDocument = PkiPairDocument | KubeconfigDocument;

interface NamedItem {
  name?: unknown;
  user?: Record<string, unknown>;
  cluster?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** The parts of a kubeconfig that carry the client credential. */
export interface KubeconfigCredentialRefs {
  userName: string;
  clusterName?: string;
  certData?: string;
  keyData?: string;
  certFile?: string;
  keyFile?: string;
  caData?: string;
}

/** The user and cluster entries a kubeconfig's credential lives in, chosen the way client-go chooses them. */
interface CredentialNodes {
  user: NamedItem & { user: Record<string, unknown> };
  cluster: NamedItem | undefined;
  clusterName: string | undefined;
}

/**
 * The current context's user and cluster (or the only user, the only cluster). Throws an Error with the reason when
 * the document has no user. Reading (kubeconfigCredentialRefs) and rewriting (renderKubeconfig) both go through it,
 * so a renewal writes into the very entries the inventory read.
 */
function credentialNodes(doc: unknown): CredentialNodes {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('is not a kubeconfig mapping');
  const config = doc as Record<string, unknown>;
  const list = (key: string): NamedItem[] => (Array.isArray(config[key]) ? (config[key] as NamedItem[]) : []);
  const pick = (items: NamedItem[], name: unknown): NamedItem | undefined =>
    items.find((i) => i.name === name) ?? (items.length === 1 ? items[0] : undefined);
  const contexts = list('contexts');
  const current = typeof config['current-context'] === 'string' ? config['current-context'] : undefined;
  const context = pick(contexts, current);
  const userName = typeof context?.context?.user === 'string' ? context.context.user : undefined;
  const user = pick(list('users'), userName);
  if (!user || typeof user.user !== 'object' || user.user === null) {
    throw new Error('has no user for its current context');
  }
  const clusterName = typeof context?.context?.cluster === 'string' ? context.context.cluster : undefined;
  return { user: user as CredentialNodes['user'], cluster: pick(list('clusters'), clusterName), clusterName };
}

/**
 * Find the client credential of a kubeconfig the way client-go does: the current context's user (or the only user).
 * Throws an Error with the reason when the document has none.
 */
export function kubeconfigCredentialRefs(doc: unknown): KubeconfigCredentialRefs {
  const { user, cluster, clusterName } = credentialNodes(doc);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const refs: KubeconfigCredentialRefs = { userName: String(user.name ?? '') };
  if (clusterName) refs.clusterName = clusterName;
  const u = user.user;
  const set = <K extends keyof KubeconfigCredentialRefs>(k: K, v: KubeconfigCredentialRefs[K] | undefined): void => {
    if (v !== undefined) refs[k] = v;
  };
  set('certData', str(u['client-certificate-data']));
  set('keyData', str(u['client-key-data']));
  set('certFile', str(u['client-certificate']));
  set('keyFile', str(u['client-key']));
  set('caData', str(cluster?.cluster?.['certificate-authority-data']));
  return refs;
}

export { parseKubeconfigText };

function replaceOnce(text: string, oldValue: string, newValue: string): string | undefined {
  const first = text.indexOf(oldValue);
  if (first < 0 || text.indexOf(oldValue, first + 1) >= 0) return undefined;
  return text.slice(0, first) + newValue + text.slice(first + oldValue.length);
}

/**
 * The new kubeconfig text: only client-certificate-data, client-key-data and (when `caPem` is given and differs)
 * certificate-authority-data change. Values are swapped in place so every other byte stays as it was; if a value is
 * not unique in the text, the document is re-serialised instead (values kept, formatting may change).
 */
export function renderKubeconfig(doc: KubeconfigDocument, certPem: string, keyPem: string, caPem?: string): string {
  const parsed = parseKubeconfigText(doc.text, doc.path);
  const refs = kubeconfigCredentialRefs(parsed);
  const swaps: Array<[string, string]> = [];
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  if (refs.certData) swaps.push([refs.certData, b64(certPem)]);
  if (refs.keyData) swaps.push([refs.keyData, b64(keyPem)]);
  if (caPem && refs.caData && Buffer.from(refs.caData, 'base64').toString('utf8') !== caPem) {
    swaps.push([refs.caData, b64(caPem)]);
  }
  // Without a client-key-data line to swap, only re-serialising can add the key.
  let text: string | undefined = refs.certData && refs.keyData ? doc.text : undefined;
  for (const [from, to] of swaps) {
    text = text === undefined ? undefined : replaceOnce(text, from, to);
  }
  if (text !== undefined) return text;

  // Fallback: edit the parsed document (the same user and cluster entries the refs came from) and serialise it again.
  const { user, cluster } = credentialNodes(parsed);
  user.user['client-certificate-data'] = b64(certPem);
  user.user['client-key-data'] = b64(keyPem);
  if (caPem && refs.caData && cluster?.cluster) cluster.cluster['certificate-authority-data'] = b64(caPem);
  return dumpYaml(parsed);
}

/** The files a renewal of `doc` writes. */
export function renderCredential(doc: CredentialDocument, certPem: string, keyPem: string, caPem?: string): FileWrite[] {
  if (doc.kind === 'pki-pair') {
    return [
      { path: doc.keyPath, content: keyPem, mode: KEY_MODE },
      { path: doc.certPath, content: certPem + (doc.chainAfterLeaf ?? ''), mode: CERT_MODE },
    ];
  }
  if (doc.form === 'file') throw new Error(`${doc.path}: references its certificate files; the kubelet rotates them`);
  return [{ path: doc.path, content: renderKubeconfig(doc, certPem, keyPem, caPem), mode: KUBECONFIG_MODE }];
}
