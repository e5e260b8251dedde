/**
 * Restart exactly the components a run changed, one at a time in a safe order (etcd, kube-apiserver,
 * controller-manager, scheduler, kubelet), each verified before the next:
 * - a static pod is bounced by setting the restart annotation in its manifest;
 * - the kubelet by RestartUnit over systemd's D-Bus API.
 * "Verified" means the component serves the certificate now on disk (byte for byte), answers its health path, and
 * was really restarted (its process was replaced, its port went away and came back, or its self-generated serving
 * certificate changed; never merely "serves the new file", which etcd and kube-apiserver do without a restart), all
 * within restart.verifyTimeout.
 */
import { readFileSync } from 'node:fs';
import type { Component } from '../catalog.js';
import type { Config } from '../config/config.js';
import { type HostPaths, hostPathOf } from '../host/paths.js';
import type { Logger } from '../ops/log.js';
import type { Notifier } from '../ops/notify.js';
import { Systemd, systemBusAddress } from '../ops/systemd.js';
import { certificateBlocks } from '../pki/pem.js';
import { faultPoint } from '../host/faults.js';
import { annotateManifest } from './manifest.js';
import { matchingProcesses } from './processes.js';
import { httpsGet, servedCertificate } from './probe.js';
import { type RestartTarget, type StaticPodTarget, restartTarget } from './targets.js';

export interface RestartDeps {
  paths: HostPaths;
  config: Config;
  log: Logger;
  notify: Notifier;
  now: () => Date;
  /** Poll interval while verifying (ms). */
  pollMs?: number;
}

export type ComponentOutcome =
  | { component: Component; ok: true; seconds: number }
  | { component: Component; ok: false; bounced: boolean; reason: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function certDerOnDisk(file: string): Buffer | undefined {
  try {
    return certificateBlocks(readFileSync(file, 'utf8'))[0]?.der;
  } catch {
    return undefined;
  }
}

interface Snapshot {
  served: Array<Buffer | undefined>;
  /** Some serving endpoint refused connections before the bounce: the component was down (crash-looping). */
  down: boolean;
  processes: Set<string>;
}

const NOT_SNAPSHOTTED: Snapshot = { served: [], down: false, processes: new Set() };

async function snapshot(target: RestartTarget): Promise<Snapshot> {
  if (target.kind === 'unit') return NOT_SNAPSHOTTED;
  const probes = await Promise.all(target.serving.map((s) => servedCertificate(s.endpoint, s.client)));
  return {
    served: probes.map((r) => (r.ok ? r.der : undefined)),
    down: probes.some((r) => !r.ok && r.refused),
    processes: matchingProcesses(target.process),
  };
}

/**
 * Wait until the component serves what it must, answers its health path, and shows a sign of having been restarted
 * since the bounce. Serving the new certificate file is required but proves no restart: etcd re-reads its
 * certificate files on every handshake and kube-apiserver watches its serving certificate, while the credentials
 * they only read at start (the apiserver's etcd client certificate, kubeconfigs) stay old. The signs are: the
 * process seen in /proc before is gone and one is running now; a serving port refused connections (it went down,
 * before or after the bounce); or a self-generated serving certificate (controller-manager, scheduler) changed.
 */
async function verifyStaticPod(target: StaticPodTarget, before: Snapshot, deps: RestartDeps): Promise<string | undefined> {
  const deadline = Date.now() + deps.config.restart.verifyTimeout;
  const poll = deps.pollMs ?? 500;
  let sawDown = before.down;
  let last = 'no answer yet';
  const expected = target.serving.map((s) => (s.expectedCertFile ? certDerOnDisk(s.expectedCertFile) : undefined));
  for (;;) {
    let servingOk = true;
    let regenerated = false;
    for (const [i, s] of target.serving.entries()) {
      const r = await servedCertificate(s.endpoint, s.client);
      if (!r.ok) {
        if (r.refused) sawDown = true;
        servingOk = false;
        last = `${s.endpoint.host}:${s.endpoint.port}: ${r.error}`;
        break;
      }
      const want = expected[i];
      const had = before.served[i];
      if (s.expectedCertFile) {
        if (!want || !r.der.equals(want)) {
          servingOk = false;
          last = `${s.endpoint.host}:${s.endpoint.port} serves a certificate other than ${s.expectedCertFile}`;
          break;
        }
      } else if (had && r.der.equals(had)) {
        servingOk = false;
        last = `${s.endpoint.host}:${s.endpoint.port} still serves the certificate it served before the restart`;
        break;
      } else if (had) {
        regenerated = true;
      }
    }
    if (servingOk) {
      const processes = matchingProcesses(target.process);
      const replaced = processes.size > 0 && [...before.processes].every((p) => !processes.has(p));
      const restarted = replaced || sawDown || regenerated;
      const h = target.health;
      const health = await httpsGet(h.endpoint, h.path, h.client);
      if ('error' in health) last = `${h.path}: ${health.error}`;
      else if (!h.expect(health.status, health.body)) last = `${h.path} answered ${health.status} ${health.body.trim().slice(0, 80)}`;
      else if (!restarted) last = 'it serves the certificate files on disk but shows no sign of a restart (same process, port never went down)';
      else return undefined;
    }
    if (Date.now() >= deadline) return last;
    await sleep(poll);
  }
}

async function bounceAndVerifyUnit(unit: string, deps: RestartDeps): Promise<string | undefined> {
  const address = systemBusAddress(deps.paths.root);
  if (!address) return `no systemd bus to restart ${unit} (looked for ${deps.paths.root}/run/dbus/system_bus_socket)`;
  const systemd = await Systemd.connect(address);
  try {
    const before = await systemd.unitState(unit);
    if (before.loadState !== 'loaded') return `${unit} is ${before.loadState}`;
    await systemd.restartUnit(unit);
    if (!deps.config.restart.verify) return undefined;
    const deadline = Date.now() + deps.config.restart.verifyTimeout;
    let last = '';
    for (;;) {
      const now = await systemd.unitState(unit);
      last = `${unit} is ${now.activeState} (${now.subState})`;
      const replaced = now.mainPid !== before.mainPid || now.activeEnterUsec !== before.activeEnterUsec;
      if (now.activeState === 'active' && replaced) return undefined;
      if (now.activeState === 'failed') return last;
      if (Date.now() >= deadline) return last;
      await sleep(deps.pollMs ?? 500);
    }
  } finally {
    systemd.close();
  }
}

/** Bounce and verify one component. */
export async function restartComponent(component: Component, deps: RestartDeps): Promise<ComponentOutcome> {
  const started = Date.now();
  let target: RestartTarget;
  try {
    target = restartTarget(component, deps.paths);
  } catch (err) {
    return { component, ok: false, bounced: false, reason: (err as Error).message };
  }
  await deps.notify(`restarting ${component}`);
  faultPoint('restart');
  if (target.kind === 'unit') {
    deps.log.info({ component, unit: target.unit }, `restarting ${target.unit} over D-Bus`);
    let reason: string | undefined;
    try {
      reason = await bounceAndVerifyUnit(target.unit, deps);
    } catch (err) {
      reason = `D-Bus: ${(err as Error).message}`;
    }
    return reason ? { component, ok: false, bounced: true, reason } : { component, ok: true, seconds: (Date.now() - started) / 1000 };
  }
  const verify = deps.config.restart.verify;
  const before = verify ? await snapshot(target) : NOT_SNAPSHOTTED;
  let value: string;
  try {
    value = annotateManifest(target.manifest, deps.config.restart.annotation, deps.now());
    faultPoint('annotate');
  } catch (err) {
    return { component, ok: false, bounced: false, reason: (err as Error).message };
  }
  deps.log.info({ component, manifest: hostPathOf(deps.paths.root, target.manifest), annotation: deps.config.restart.annotation, value }, `restarting ${component} (manifest annotated)`);
  if (!verify) return { component, ok: true, seconds: 0 };
  await deps.notify(`waiting for ${component}`);
  const reason = await verifyStaticPod(target, before, deps);
  if (reason) return { component, ok: false, bounced: true, reason };
  const seconds = (Date.now() - started) / 1000;
  deps.log.info({ component, seconds }, `${component} serves the new certificates`);
  return { component, ok: true, seconds };
}

/**
 * `auto`: prove that `component` picked up the files now on disk by itself, without a restart: every serving
 * endpoint presents exactly the certificate file on disk over a fresh TLS handshake (etcd's client and peer ports
 * with a client certificate, the apiserver's secure port without SNI) and the health path answers, within
 * `budgetMs`. An endpoint that refuses connections outright is not reloading anything: that fails at once.
 */
export async function proveReload(component: Component, deps: RestartDeps, budgetMs: number): Promise<ComponentOutcome> {
  const started = Date.now();
  let target: RestartTarget;
  try {
    target = restartTarget(component, deps.paths);
  } catch (err) {
    return { component, ok: false, bounced: false, reason: (err as Error).message };
  }
  if (target.kind === 'unit') return { component, ok: false, bounced: false, reason: `${target.unit} reloads nothing by itself` };
  const deadline = started + budgetMs;
  const expected = target.serving.map((s) => (s.expectedCertFile ? certDerOnDisk(s.expectedCertFile) : undefined));
  let last = 'no answer yet';
  for (let attempt = 0; ; attempt++) {
    let served = true;
    for (const [i, s] of target.serving.entries()) {
      const r = await servedCertificate(s.endpoint, s.client);
      const where = `${s.endpoint.host}:${s.endpoint.port}`;
      if (!r.ok && r.refused && attempt === 0) return { component, ok: false, bounced: false, reason: `${where} refuses connections: ${r.error}` };
      const want = expected[i];
      if (!r.ok) last = `${where}: ${r.error}`;
      else if (s.expectedCertFile && (!want || !r.der.equals(want))) last = `${where} still serves a certificate other than ${s.expectedCertFile}`;
      else continue;
      served = false;
      break;
    }
    if (served) {
      const h = target.health;
      const health = await httpsGet(h.endpoint, h.path, h.client);
      if ('error' in health) last = `${h.path}: ${health.error}`;
      else if (!h.expect(health.status, health.body)) last = `${h.path} answered ${health.status}`;
      else return { component, ok: true, seconds: (Date.now() - started) / 1000 };
    }
    if (Date.now() >= deadline) return { component, ok: false, bounced: false, reason: `not reloaded within ${budgetMs / 1000}s: ${last}` };
    await sleep(Math.min(deps.pollMs ?? 500, Math.max(50, deadline - Date.now())));
  }
}
