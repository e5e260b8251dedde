/**
 * The etcd quorum guard: before the local member of a stacked etcd is bounced, read the member list and each
 * member's health over its client URLs, and allow the restart only when the others keep a quorum without it.
 */
import type { EtcdClient, EtcdMember } from './etcd-client.js';

export interface MemberHealth {
  name: string;
  clientURLs: string[];
  healthy: boolean;
  /** Why it is not healthy (refused, timed out, no leader). */
  why?: string;
}

export interface QuorumVerdict {
  ok: boolean;
  /** One line for the journal: why the restart may or may not go ahead. */
  why: string;
  unhealthy: MemberHealth[];
}

const show = (m: MemberHealth): string => `${m.name || '(unnamed)'} (${m.clientURLs[0] ?? 'no client URL'}: ${m.why ?? 'unhealthy'})`;

/** Pure: may the member `local` be restarted now? */
export function judgeQuorum(members: MemberHealth[], local: string): QuorumVerdict {
  const n = members.length;
  const quorum = Math.floor(n / 2) + 1;
  const me = members.find((m) => m.name === local);
  const others = members.filter((m) => m !== me);
  const unhealthy = others.filter((m) => !m.healthy);
  const healthyOthers = others.length - unhealthy.length;
  if (n <= 1) return { ok: true, why: 'a single-member etcd cluster has no quorum to keep', unhealthy: [] };
  if (!me) {
    return { ok: false, why: `the member list has no member named ${local} (members: ${members.map((m) => m.name).join(', ')})`, unhealthy };
  }
  if (!me.healthy) {
    // Restarting a member that does not serve cannot lower the number that do (and may be what brings it back).
    return { ok: true, why: `${local} is not healthy already (${me.why ?? 'unhealthy'}); restarting it costs no healthy member`, unhealthy };
  }
  if (healthyOthers >= quorum) {
    return { ok: true, why: `${healthyOthers} of the other ${others.length} members are healthy; quorum is ${quorum} of ${n}`, unhealthy };
  }
  return {
    ok: false,
    why: `restarting ${local} would leave ${healthyOthers} of ${n} members healthy, below the quorum of ${quorum}; unhealthy: ${unhealthy.map(show).join(', ')}`,
    unhealthy,
  };
}

async function healthOf(client: EtcdClient, m: EtcdMember): Promise<MemberHealth> {
  let why = 'no client URL';
  for (const url of m.clientURLs) {
    const h = await client.memberHealth(url);
    if (h.healthy) return { name: m.name, clientURLs: m.clientURLs, healthy: true };
    why = h.why;
  }
  return { name: m.name, clientURLs: m.clientURLs, healthy: false, why };
}

/** Every member's health, asked in parallel. */
export async function readMemberHealth(client: EtcdClient): Promise<MemberHealth[]> {
  const members = await client.memberList();
  return Promise.all(members.map((m) => healthOf(client, m)));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until `local` may be restarted, at most `waitMs`; `onWaiting` hears each new reason to wait. A member list
 * that cannot be read at all counts as a reason to wait, except when the local member is the one not answering.
 */
export async function waitForQuorum(
  client: EtcdClient,
  local: string,
  waitMs: number,
  onWaiting: (why: string) => void | Promise<void>,
  pollMs = 1_000,
): Promise<QuorumVerdict> {
  const deadline = Date.now() + waitMs;
  let said = '';
  for (;;) {
    let verdict: QuorumVerdict;
    try {
      verdict = judgeQuorum(await readMemberHealth(client), local);
    } catch (err) {
      verdict = { ok: false, why: `cannot read the etcd member list: ${(err as Error).message}`, unhealthy: [] };
    }
    if (verdict.ok || Date.now() >= deadline) return verdict;
    if (verdict.why !== said) {
      said = verdict.why;
      await onWaiting(verdict.why);
    }
    await sleep(pollMs);
  }
}
