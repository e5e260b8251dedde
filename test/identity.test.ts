/**
 * The catalog's identities against real kubeadm-shaped trees made with openssl: no kubeadm form is ever flagged,
 * and a certificate whose identity differs is reported (identity-differs), not blocked: it renews with its own
 * identity copied, which openssl confirms.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FixtureOptions } from './helpers/kubeadm-fixture.js';
import { useTrees } from './helpers/host-trees.js';
import { expectSameIdentity, expectSignedBy, readCert } from './helpers/openssl.js';
import { runCli, statusJson } from './helpers/cli.js';
import { assertMatchesSchema } from './helpers/schemas.js';

const trees = useTrees('kcr-identity-');

describe('no kubeadm form is flagged', () => {
  it.each<[string, FixtureOptions]>([
    ['pre-1.29 system:masters, another node name, service range and advertise address', {
      clusterAdminsGroup: 'system:masters', hostname: 'node-a.example', advertiseAddress: '127.0.0.2', serviceVIP: '10.100.0.1',
      serviceSubnet: '10.100.0.0/16', kubeletConf: 'embedded',
    }],
    ['ECDSA, PKCS#8, IPv6 advertise address', { keyAlgorithm: 'ecdsa-p256', keyEncoding: 'pkcs8', advertiseAddress: '::1' }],
    ['joined node, old-style notBefore', { joinedNode: true, notBeforeStyle: 'ca', issuedDaysAgo: 30 }],
    ['external etcd, external CA', { externalEtcd: true, externalCA: true }],
  ])('%s', async (_, options) => {
    const fx = await trees.make(options);
    const { report } = statusJson(fx.root);
    expect(report.certificates.filter((c) => c.state === 'present').length).toBeGreaterThanOrEqual(8);
    expect(report.problems.filter((p) => p.code === 'identity-differs')).toEqual([]);
  });
});

describe('a certificate whose identity differs from kubeadm’s', () => {
  it('is reported by status, does not fail it, and renews with its own identity kept', async () => {
    const fx = await trees.make({});
    const pki = fx.pkiDir;
    const ext = join(fx.root, 'odd.cnf');
    writeFileSync(ext, '[x]\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = clientAuth\n' +
      'basicConstraints = critical, CA:FALSE\nsubjectAltName = DNS:cp-1, DNS:kubernetes, IP:10.96.0.1\n');
    const csr = join(fx.root, 'odd.csr');
    execFileSync('openssl', ['req', '-new', '-key', join(pki, 'apiserver.key'), '-subj', '/O=ops/CN=apiserver-by-hand', '-out', csr]);
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-set_serial', '4660',
      '-days', '30', '-extfile', ext, '-extensions', 'x', '-out', join(pki, 'apiserver.crt')], { stdio: 'ignore' });
    const before = readFileSync(join(pki, 'apiserver.crt'));

    const { code, report } = statusJson(fx.root);
    expect(code).toBe(0);
    assertMatchesSchema('status', report);
    expect(report.summary.healthy).toBe(true);
    const problems = report.problems.filter((p) => p.code === 'identity-differs');
    expect(problems.map((p) => p.entry)).toEqual(['apiserver']);
    expect(problems[0]?.file).toBe('/etc/kubernetes/pki/apiserver.crt'); // host path
    expect(problems[0]?.message).toBe('is not the certificate kubeadm makes for apiserver: CN is "apiserver-by-hand", kubeadm\'s is "kube-apiserver"; ' +
      'organizations are "ops", kubeadm\'s are [none]; extended key usage lacks serverAuth; ' +
      'SANs lack DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.<domain>');
    expect(report.certificates.find((c) => c.name === 'apiserver')).toMatchObject({ renewable: true });
    expect(runCli(['--root', fx.root, 'status']).stdout).toMatch(/apiserver: .*apiserver\.crt: is not the certificate kubeadm makes/);

    mkdirSync(join(fx.root, 'etc/kube-cert-renewer'), { recursive: true });
    writeFileSync(join(fx.root, 'etc/kube-cert-renewer/config.yaml'), 'restart:\n  enabled: false\n');
    const renew = runCli(['--root', fx.root, 'renew', 'apiserver']);
    expect(renew.code, renew.stderr).toBe(0);
    const after = join(pki, 'apiserver.crt');
    expect(readFileSync(after).equals(before)).toBe(false);
    expectSameIdentity(before.toString(), after);
    expectSignedBy(join(pki, 'ca.crt'), after);
    expect(readCert(after).serial).not.toBe('1234');
    expect(statusJson(fx.root).report.problems.map((p) => [p.entry, p.code])).toEqual([['apiserver', 'identity-differs']]);
  });
});
