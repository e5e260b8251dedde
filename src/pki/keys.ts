/**
 * New private keys, always native (node:crypto on libuv's thread pool, so several generate in parallel); never
 * node-forge's pure-JS RSA path.
 */
import { type KeyObject, generateKeyPair } from 'node:crypto';
import type { PublicKeyInfo } from './certificate.js';
import type { KeyEncoding } from './pem.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const CURVES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

/** Why a key like this one cannot be generated here, or undefined when it can. */
export function unsupportedKey(info: PublicKeyInfo): string | undefined {
  if (info.algorithm === 'RSA' && info.bits >= 2048 && info.bits <= 8192) return undefined;
  if (info.algorithm === 'ECDSA' && info.curve) return undefined;
  return `unsupported key type (${info.nodeType} ${info.bits || ''}); kubeadm uses RSA 2048–4096 or ECDSA P-256/P-384`;
}

/** A new key pair of the same algorithm and size as `like`. */
export function generateKeyLike(like: PublicKeyInfo): Promise<KeyPair> {
  const reason = unsupportedKey(like);
  if (reason) return Promise.reject(new Error(reason));
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    };
    if (like.algorithm === 'RSA') {
      generateKeyPair('rsa', { modulusLength: like.bits, publicExponent: 0x10001 }, done);
    } else {
      generateKeyPair('ec', { namedCurve: CURVES[like.curve as keyof typeof CURVES] }, done);
    }
  });
}

/** The PEM of a private key in the encoding the old key had (PKCS#1 or SEC1 by default, as kubeadm writes). */
export function exportPrivateKey(key: KeyObject, encoding: KeyEncoding | undefined): string {
  const type = key.asymmetricKeyType;
  if (encoding === 'pkcs8') return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  if (type === 'rsa') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (type === 'ec') return key.export({ type: 'sec1', format: 'pem' }) as string;
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}
