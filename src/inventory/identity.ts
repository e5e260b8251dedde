/**
 * Compare a certificate's identity with the one kubeadm gives its catalog entry (src/catalog.ts `identity`). The
 * result is a list of differences in words; empty when the certificate is as kubeadm makes it.
 */
import type { Identity } from '../catalog.js';
import { type CertFacts, commonName } from '../pki/certificate.js';

/** `kubernetes.default.svc.<domain>` → a pattern matching any non-empty text where a placeholder stands. */
function pattern(rule: string): RegExp {
  const parts = rule.split(/<(?:node|domain)>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+')}$`);
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

const quoted = (xs: readonly string[]): string => (xs.length ? xs.map((x) => JSON.stringify(x)).join(', ') : 'none');

export function identityDifferences(expected: Identity, cert: CertFacts): string[] {
  const out: string[] = [];
  const cn = commonName(cert.subject) ?? '';
  if (!pattern(expected.commonName).test(cn)) out.push(`CN is ${JSON.stringify(cn)}, kubeadm's is ${JSON.stringify(expected.commonName)}`);
  const orgs = cert.subject.filter((a) => a.type === 'O').map((a) => a.value);
  if (!expected.organizations.some((set) => sameSet(set, orgs))) {
    out.push(`organizations are ${quoted(orgs)}, kubeadm's are ${expected.organizations.map((o) => `[${quoted(o)}]`).join(' or ')}`);
  }
  const missingEku = expected.extKeyUsage.filter((u) => !cert.extKeyUsage.includes(u));
  if (missingEku.length) out.push(`extended key usage lacks ${missingEku.join(', ')}`);
  if (cert.isCA) out.push('it is a CA certificate');
  const missingDns = (expected.sans?.dns ?? []).filter((d) => !cert.dnsNames.some((n) => pattern(d).test(n)));
  const missingIp = (expected.sans?.ip ?? []).filter((ip) => !cert.ipAddresses.includes(ip));
  if (missingDns.length || missingIp.length) {
    out.push(`SANs lack ${[...missingDns.map((d) => `DNS:${d}`), ...missingIp.map((i) => `IP:${i}`)].join(', ')}`);
  }
  return out;
}
