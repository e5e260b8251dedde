/**
 * systemd over its D-Bus API (dbus-next): restart a unit and wait for it, read the timer's last and next run.
 * The bus is DBUS_SYSTEM_BUS_ADDRESS when set, else <root>/run/dbus/system_bus_socket, so --root aimed at a
 * container's filesystem talks to that container's systemd.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** What systemd says about a timer: its state and its last and next run (RFC 3339, UTC). */
export interface TimerState {
  unit: string;
  activeState?: string;
  lastTriggerAt?: string;
  nextElapseAt?: string;
}

type DBusModule = typeof import('dbus-next');
type MessageBus = import('dbus-next').MessageBus;
type ClientInterface = import('dbus-next').ClientInterface;

async function call(iface: ClientInterface, method: string, ...args: unknown[]): Promise<unknown> {
  const fn = iface[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (typeof fn !== 'function') throw new Error(`D-Bus interface has no method ${method}`);
  return fn.apply(iface, args);
}

const SYSTEMD = 'org.freedesktop.systemd1';
const PROPS = 'org.freedesktop.DBus.Properties';

export function systemBusAddress(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DBUS_SYSTEM_BUS_ADDRESS) return env.DBUS_SYSTEM_BUS_ADDRESS;
  const socket = join(root, 'run/dbus/system_bus_socket');
  return existsSync(socket) ? `unix:path=${socket}` : undefined;
}

let dbusModule: DBusModule | undefined;
async function loadDbus(): Promise<DBusModule> {
  // Loaded on demand: status on a host without a bus never pays for it.
  dbusModule ??= (await import('dbus-next')) as DBusModule;
  return dbusModule;
}

export class Systemd {
  private constructor(private readonly bus: MessageBus, private readonly dbus: DBusModule) {}

  static async connect(address: string): Promise<Systemd> {
    const dbus = await loadDbus();
    const bus = dbus.sessionBus({ busAddress: address });
    // Surface connection errors as rejections rather than an unhandled 'error' event.
    const failed = new Promise<never>((_, reject) => bus.on('error', reject));
    failed.catch(() => undefined);
    const systemd = new Systemd(bus, dbus);
    await Promise.race([systemd.manager(), failed]);
    return systemd;
  }

  close(): void {
    this.bus.disconnect();
  }

  private async manager() {
    const obj = await this.bus.getProxyObject(SYSTEMD, '/org/freedesktop/systemd1');
    return obj.getInterface(`${SYSTEMD}.Manager`);
  }

  private async unitProperties(unit: string) {
    const manager = await this.manager();
    const path = (await call(manager, 'LoadUnit', unit)) as string;
    const obj = await this.bus.getProxyObject(SYSTEMD, path);
    return obj.getInterface(PROPS);
  }

  async property(unit: string, iface: string, name: string): Promise<unknown> {
    const props = await this.unitProperties(unit);
    const v = (await call(props, 'Get', iface, name)) as { value: unknown };
    return v.value;
  }

  async unitState(unit: string): Promise<{ activeState: string; subState: string; mainPid: number; activeEnterUsec: bigint; loadState: string }> {
    const props = await this.unitProperties(unit);
    const get = async (iface: string, name: string): Promise<unknown> => ((await call(props, 'Get', iface, name)) as { value: unknown }).value;
    const u = `${SYSTEMD}.Unit`;
    const [activeState, subState, loadState, activeEnter] = await Promise.all([
      get(u, 'ActiveState'), get(u, 'SubState'), get(u, 'LoadState'), get(u, 'ActiveEnterTimestamp'),
    ]);
    let mainPid = 0;
    try {
      mainPid = Number(await get(`${SYSTEMD}.Service`, 'MainPID'));
    } catch {
      mainPid = 0;
    }
    return {
      activeState: String(activeState), subState: String(subState), loadState: String(loadState), mainPid,
      activeEnterUsec: BigInt(activeEnter as bigint),
    };
  }

  /** RestartUnit(unit, "replace"); returns the job path. */
  async restartUnit(unit: string): Promise<string> {
    const manager = await this.manager();
    return (await call(manager, 'RestartUnit', unit, 'replace')) as string;
  }

  async timer(unit: string): Promise<TimerState> {
    const props = await this.unitProperties(unit);
    const get = async (iface: string, name: string): Promise<unknown> => ((await call(props, 'Get', iface, name)) as { value: unknown }).value;
    const [activeState, last, next] = await Promise.all([
      get(`${SYSTEMD}.Unit`, 'ActiveState'),
      get(`${SYSTEMD}.Timer`, 'LastTriggerUSec'),
      get(`${SYSTEMD}.Timer`, 'NextElapseUSecRealtime'),
    ]);
    const usec = (v: unknown): string | undefined => {
      const n = typeof v === 'bigint' ? v : BigInt(Number(v ?? 0));
      if (n === 0n || n === 0xffffffffffffffffn) return undefined;
      return new Date(Number(n / 1000n)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    };
    const report: TimerState = { unit, activeState: String(activeState) };
    const l = usec(last);
    const n = usec(next);
    if (l) report.lastTriggerAt = l;
    if (n) report.nextElapseAt = n;
    return report;
  }

  get variant(): DBusModule['Variant'] {
    return this.dbus.Variant;
  }
}

export const TIMER_UNIT = 'kube-cert-renewer.timer';

/** The timer's last and next run, or undefined when no systemd answers (a tree, a container without a bus). */
export async function readTimer(root: string, timeoutMs = 2_000): Promise<TimerState | undefined> {
  const address = systemBusAddress(root);
  if (!address) return undefined;
  let systemd: Systemd | undefined;
  try {
    const work = (async () => {
      systemd = await Systemd.connect(address);
      const state = await systemd.property(TIMER_UNIT, `${SYSTEMD}.Unit`, 'LoadState');
      if (state !== 'loaded') return undefined;
      return await systemd.timer(TIMER_UNIT);
    })();
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
    return await Promise.race([work, timeout]);
  } catch {
    return undefined;
  } finally {
    systemd?.close();
  }
}
