/**
 * Real peers accept renewed certificates: Debian's etcd serves the renewed server/peer certificates with client-cert
 * auth and etcdctl talks to it with the renewed client certificates; kubectl with the renewed admin.conf completes
 * a mutual-TLS handshake with a loopback server (openssl s_server) that uses the renewed API server certificate.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/cli.js';
import { type Fixture, createKubeadmTree } from './helpers/kubeadm-fixture.js';
import { readCert } from './helpers/openssl.js';
import { freePorts, waitFor } from './helpers/ports.js';

let fx: Fixture;
const before = new Map<string, string>();
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kcr-peers-'));
  dirs.push(dir);
  fx = await createKubeadmTree(dir, { reuseKeys: true, issuedDaysAgo: 2 });
  for (const n of ['etcd-server', 'etcd-peer', 'apiserver-etcd-client', 'etcd-healthcheck-client', 'apiserver']) {
    before.set(n, readCert(fx.entry(n).certPath).serial);
  }
  before.set('admin.conf', readFileSync(fx.entry('admin.conf').certPath, 'utf8'));
  writeConfig(fx.root, 'restart:\n  enabled: false\n');
  const r = runCli(['--root', fx.root, 'renew', '--all']);
  expect(r.code, r.stderr).toBe(0);
}, 300_000);

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('etcd and etcdctl accept the renewed certificates', () => {
  it('serves with the renewed server/peer certificates and answers etcdctl with both renewed client certificates', async () => {
    for (const n of ['etcd-server', 'etcd-peer', 'apiserver-etcd-client', 'etcd-healthcheck-client']) {
      expect(readCert(fx.entry(n).certPath).serial, `${n} was renewed`).not.toBe(before.get(n));
    }
    const [client, peer] = await freePorts(2);
    const pki = fx.pkiDir;
    const data = mkdtempSync(join(tmpdir(), 'kcr-etcd-data-'));
    dirs.push(data);
    const etcd = spawn('etcd', [
      '--name=cp-1', `--data-dir=${data}`,
      `--listen-client-urls=https://127.0.0.1:${client}`, `--advertise-client-urls=https://127.0.0.1:${client}`,
      `--listen-peer-urls=https://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=https://127.0.0.1:${peer}`,
      `--initial-cluster=cp-1=https://127.0.0.1:${peer}`, '--listen-metrics-urls=',
      '--client-cert-auth=true', `--trusted-ca-file=${pki}/etcd/ca.crt`,
      `--cert-file=${pki}/etcd/server.crt`, `--key-file=${pki}/etcd/server.key`,
      '--peer-client-cert-auth=true', `--peer-trusted-ca-file=${pki}/etcd/ca.crt`,
      `--peer-cert-file=${pki}/etcd/peer.crt`, `--peer-key-file=${pki}/etcd/peer.key`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(etcd);
    let log = '';
    etcd.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const etcdctl = (cert: string, key: string, ...args: string[]) =>
      spawnSync('etcdctl', [`--endpoints=https://127.0.0.1:${client}`, `--cacert=${pki}/etcd/ca.crt`, `--cert=${cert}`, `--key=${key}`, '--dial-timeout=3s', ...args], {
        encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' },
      });
    const apiClient = [`${pki}/apiserver-etcd-client.crt`, `${pki}/apiserver-etcd-client.key`] as const;
    const health = [`${pki}/etcd/healthcheck-client.crt`, `${pki}/etcd/healthcheck-client.key`] as const;
    await waitFor('etcd to answer', () => etcdctl(...apiClient, 'endpoint', 'health').status === 0, 30_000, 300).catch((e) => {
      throw new Error(`${(e as Error).message}\n${log}`);
    });
    const put = etcdctl(...apiClient, 'put', '/kcr/test', 'renewed');
    expect(put.status, put.stderr).toBe(0);
    const get = etcdctl(...health, 'get', '/kcr/test', '--print-value-only');
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout.trim()).toBe('renewed');
    // The serving certificate is exactly the renewed file (openssl s_client, independent of etcd's own tooling).
    const served = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${client}`, '-cert', apiClient[0], '-key', apiClient[1], '-CAfile', `${pki}/etcd/ca.crt`, '-verify_return_error'], { input: '', encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(readCert(served).serial).toBe(readCert(`${pki}/etcd/server.crt`).serial);
    // And a client certificate from no CA of this cluster is refused (the check above could fail).
    const strangerKey = join(data, 'x.key');
    const strangerCrt = join(data, 'x.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', strangerKey, '-out', strangerCrt, '-subj', '/CN=stranger', '-days', '2'], { stdio: 'pipe' });
    expect(etcdctl(strangerCrt, strangerKey, 'get', '/kcr/test').status).not.toBe(0);
  });
});

describe('kubectl accepts the renewed admin.conf and API server certificate', () => {
  it('completes a mutual-TLS handshake and request against a loopback server using the renewed apiserver cert', async () => {
    expect(readCert(fx.entry('apiserver').certPath).serial).not.toBe(before.get('apiserver'));
    expect(readFileSync(fx.entry('admin.conf').certPath, 'utf8')).not.toBe(before.get('admin.conf'));
    const [port] = await freePorts(1);
    const pki = fx.pkiDir;
    const server = spawn('openssl', [
      's_server', '-accept', `127.0.0.1:${port}`, '-cert', `${pki}/apiserver.crt`, '-key', `${pki}/apiserver.key`,
      '-CAfile', `${pki}/ca.crt`, '-Verify', '1', '-verify_return_error', '-www', '-alpn', 'http/1.1',
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(server);
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('s_server', () => out.includes('ACCEPT'), 10_000, 100);
    const home = mkdtempSync(join(tmpdir(), 'kcr-kubectl-'));
    dirs.push(home);
    const kubectl = (kubeconfig: string) => spawnSync('kubectl', [
      `--kubeconfig=${kubeconfig}`, `--server=https://127.0.0.1:${port}`, '--request-timeout=10s', 'get', '--raw', '/',
    ], { encoding: 'utf8', env: { ...process.env, HOME: home, KUBECONFIG: '' } });
    const r = kubectl(fx.entry('admin.conf').certPath);
    expect(r.status, `${r.stderr}\n${out}`).toBe(0);
    expect(r.stdout).toMatch(/s_server|Ciphers supported/i); // the -www status page, fetched over verified TLS
    expect(r.stdout).toMatch(/Client certificate[\s\S]*Subject: O ?= ?kubeadm:cluster-admins, CN ?= ?kubernetes-admin/); // s_server's page shows the client certificate it verified
    // Control: the same kubeconfig with a client certificate from a stranger CA is refused by the server.
    const text = readFileSync(fx.entry('admin.conf').certPath, 'utf8');
    const strangerKey = join(home, 'x.key');
    const strangerCrt = join(home, 'x.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', strangerKey, '-out', strangerCrt, '-subj', '/CN=kubernetes-admin', '-days', '2'], { stdio: 'pipe' });
    const forged = text
      .replace(/client-certificate-data: \S+/, `client-certificate-data: ${readFileSync(strangerCrt).toString('base64')}`)
      .replace(/client-key-data: \S+/, `client-key-data: ${readFileSync(strangerKey).toString('base64')}`);
    const forgedPath = join(home, 'forged.conf');
    writeFileSync(forgedPath, forged);
    // s_server -www serves one connection at a time and keeps running; a refused handshake fails kubectl.
    expect(kubectl(forgedPath).status).not.toBe(0);
  });
});
