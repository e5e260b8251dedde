/**
 * The metrics textfile as x509-certificate-exporter's dashboards and alerts read it: its families and label names
 * (v4 pkg/registry/labels.go), parsed by a Prometheus text-format parser (npm parse-prometheus-text-format, a port of
 * the Python client's parser), values checked against openssl; one series for kubelet.conf across kubelet rotations;
 * monitor mode writes the run metrics too.
 */
import { copyFileSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import * as yaml from 'js-yaml';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { readCert } from './helpers/openssl.js';
import { extractKubeconfigCredentials } from './helpers/kubeadm-fixture.js';
import { runCli } from './helpers/cli.js';
import { useFixtureCopies } from './helpers/host-trees.js';

const trees = useFixtureCopies({ issuedDaysAgo: 40 });
const PROM = 'var/lib/node_exporter/kube_cert_renewer.prom';

/** Every x509_cert_* series of x509-certificate-exporter for a file or kubeconfig source carries exactly these. */
const EXPORTER_LABELS = [
  'filename', 'filepath', 'embedded_kind', 'embedded_key', 'serial_number',
  'issuer_C', 'issuer_ST', 'issuer_L', 'issuer_O', 'issuer_OU', 'issuer_CN',
  'subject_C', 'subject_ST', 'subject_L', 'subject_O', 'subject_OU', 'subject_CN',
];

function families(root: string): Map<string, ReturnType<typeof parsePrometheusTextFormat>[number]> {
  return new Map(parsePrometheusTextFormat(readFileSync(join(root, PROM), 'utf8')).map((f) => [f.name, f]));
}

/** The certificate a series describes, read independently: the file, or the kubeconfig user's client certificate. */
function certOfSeries(root: string, labels: Record<string, string>): ReturnType<typeof readCert> {
  const file = join(root, labels.filepath as string);
  if (labels.embedded_kind !== 'user') return readCert(file);
  const doc = yaml.load(readFileSync(file, 'utf8')) as { users: Array<{ name: string }> };
  expect(doc.users.map((u) => u.name)).toContain(labels.embedded_key);
  return readCert(extractKubeconfigCredentials(file, root).certPem);
}

describe('metrics compatible with x509-certificate-exporter', () => {
  it('families, label names and values as the exporter gives them, checked with openssl', () => {
    const root = trees.copy('renewInterval: 30d\nrestart:\n  verify: false\nmetrics:\n  textfileDir: /var/lib/node_exporter\n');
    const run = runCli(['--root', root, 'run']);
    expect(run.code, run.stderr).toBe(0);
    const fams = families(root);
    for (const name of ['x509_cert_not_after', 'x509_cert_not_before', 'x509_cert_expired', 'x509_read_errors']) {
      expect(fams.get(name)?.type, name).toBe('GAUGE');
    }
    const notAfter = fams.get('x509_cert_not_after')?.metrics ?? [];
    expect(notAfter.map((m) => m.labels?.name).sort()).toEqual(trees.base.entries.map((e) => e.name).sort());
    for (const m of notAfter) {
      const l = m.labels as Record<string, string>;
      expect(Object.keys(l).sort(), l.name).toEqual([...EXPORTER_LABELS, 'name'].sort());
      expect(l.filepath, l.name).toMatch(/^\/etc\/kubernetes\//);
      expect(l.filename).toBe(basename(l.filepath as string));
      const info = certOfSeries(root, l);
      expect(Number(m.value), `${l.name} notAfter`).toBe(info.notAfter.getTime() / 1000);
      expect(l.serial_number, `${l.name} serial in decimal`).toBe(BigInt(`0x${info.serial}`).toString(10));
      expect(l.subject_CN, l.name).toBe(info.subjectAttrs.CN?.[0]);
      expect(l.subject_O, l.name).toBe(info.subjectAttrs.O?.[0] ?? '');
      expect(l.issuer_CN, l.name).toBe(info.issuerAttrs.CN?.[0]);
      expect(l.embedded_kind, l.name).toBe((l.name as string).endsWith('.conf') ? 'user' : '');
      const notBefore = fams.get('x509_cert_not_before')?.metrics.find((s) => s.labels?.name === l.name);
      expect(notBefore?.labels).toEqual(l);
      expect(Number(notBefore?.value)).toBe(info.notBefore.getTime() / 1000);
    }
    const admin = notAfter.find((m) => m.labels?.name === 'admin.conf')?.labels;
    expect(admin).toMatchObject({ filepath: '/etc/kubernetes/admin.conf', filename: 'admin.conf', embedded_kind: 'user', embedded_key: 'kubernetes-admin' });
    expect(fams.get('x509_read_errors')?.metrics[0]?.value).toBe('0');
    expect(fams.get('kube_cert_renewer_runs_total')?.type).toBe('COUNTER');

    // a certificate that cannot be read counts as a read error
    writeFileSync(join(root, 'etc/kubernetes/pki/apiserver.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n');
    expect(runCli(['--root', root, 'run']).code).toBe(1);
    expect(families(root).get('x509_read_errors')?.metrics[0]?.value).toBe('1');
  });

  it('kubelet.conf keeps one series while the kubelet rotates kubelet-client-<date>.pem behind it', () => {
    const root = trees.copy('metrics:\n  textfileDir: /var/lib/node_exporter\nmode: monitor\n');
    expect(runCli(['--root', root, 'run']).code).toBe(0);
    const seriesOf = (): Record<string, string> => {
      const all = families(root).get('x509_cert_not_after')?.metrics.filter((m) => m.labels?.name === 'kubelet.conf') ?? [];
      expect(all).toHaveLength(1);
      return all[0]?.labels as Record<string, string>;
    };
    const before = seriesOf();
    expect(before).toMatchObject({ filepath: '/etc/kubernetes/kubelet.conf', filename: 'kubelet.conf', embedded_kind: 'user' });
    // the kubelet rotates: a new dated file, the -current symlink moved to it, the old file gone
    const current = join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
    const link = readlinkSync(current);
    const oldFile = isAbsolute(link) ? join(root, link) : join(dirname(current), link);
    const newFile = join(dirname(oldFile), 'kubelet-client-2031-01-01-00-00-00.pem');
    copyFileSync(oldFile, newFile);
    unlinkSync(current);
    symlinkSync(basename(newFile), current);
    unlinkSync(oldFile);
    expect(runCli(['--root', root, 'run']).code).toBe(0);
    expect(seriesOf()).toEqual(before);
  });

  it('monitor mode writes the run metrics too', () => {
    const root = trees.copy('renewInterval: 30d\nmode: monitor\nmetrics:\n  textfileDir: /var/lib/node_exporter\n');
    const from = Math.floor(Date.now() / 1000);
    const r = runCli(['--root', root, 'run']);
    const to = Math.ceil(Date.now() / 1000);
    expect(r.code, r.stderr).toBe(0);
    const fams = families(root);
    const last = Number(fams.get('kube_cert_renewer_last_run_timestamp_seconds')?.metrics[0]?.value);
    expect(last).toBeGreaterThanOrEqual(from);
    expect(last).toBeLessThanOrEqual(to);
    expect(fams.get('kube_cert_renewer_last_run_success')?.metrics[0]?.value).toBe('1');
    expect(Number(fams.get('kube_cert_renewer_last_success_timestamp_seconds')?.metrics[0]?.value)).toBe(last);
    expect(fams.get('kube_cert_renewer_renewal_due')?.metrics.find((m) => m.labels?.name === 'apiserver')?.value).toBe('1');
  });
});
