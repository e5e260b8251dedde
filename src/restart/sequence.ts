/**
 * The restart step of a run: bounce the components the run (and any interrupted run it finished) changed, in order,
 * each verified before the next; on a failed verification roll the run back when the previous certificates are
 * still valid, or keep the new ones and say so loudly when they are not.
 */
import type { Context } from '../cli/context.js';
import { COMPONENTS, type Component } from '../catalog.js';
import type { Notifier } from '../ops/notify.js';
import { type Journal, restoreRun, writeJournal } from '../apply/transaction.js';
import { restartComponent } from './orchestrate.js';

export interface SequenceResult {
  ok: boolean;
  rolledBack: boolean;
  restarted: Component[];
}

/** Previous certificates must stay valid at least this long to be worth rolling back to. */
const ROLLBACK_MARGIN_MS = 10 * 60_000;

export function inRestartOrder(components: Iterable<Component>): Component[] {
  const set = new Set(components);
  return COMPONENTS.filter((c) => set.has(c));
}

/** Bounce and verify `components` in order; stops at the first failure. */
export async function bounceInOrder(
  ctx: Context,
  notify: Notifier,
  components: Component[],
  onBounced: (c: Component) => void,
): Promise<{ ok: true } | { ok: false; component: Component; reason: string; bounced: boolean }> {
  for (const component of components) {
    const outcome = await restartComponent(component, { paths: ctx.paths, config: ctx.config, log: ctx.log, notify, now: ctx.now });
    if (outcome.ok || outcome.bounced) onBounced(component);
    if (!outcome.ok) return { ok: false, component, reason: outcome.reason, bounced: outcome.bounced };
  }
  return { ok: true };
}

export async function restartComponents(
  ctx: Context,
  notify: Notifier,
  journal: Journal | undefined,
  owed: Journal[],
): Promise<SequenceResult> {
  const wanted = inRestartOrder([...(journal?.restarts ?? []), ...owed.flatMap((j) => j.restarts)]);
  if (!ctx.config.restart.enabled || wanted.length === 0) {
    if (!ctx.config.restart.enabled && journal && journal.entries.length) {
      ctx.log.warn('restart.enabled is false: the renewed certificates take effect when the components restart');
    }
    return { ok: true, rolledBack: false, restarted: [] };
  }
  const restarted: Component[] = [];
  if (journal) {
    journal.phase = 'restarting';
    writeJournal(ctx.paths, journal);
  }
  const result = await bounceInOrder(ctx, notify, wanted, (c) => {
    restarted.push(c);
    if (journal) {
      journal.restarted = [...restarted];
      writeJournal(ctx.paths, journal);
    }
  });
  if (result.ok) {
    // Without restart.verify the components were bounced, not verified: the journal must not claim otherwise.
    if (journal && ctx.config.restart.verify) {
      journal.phase = 'verified';
      journal.verified = [...restarted];
      writeJournal(ctx.paths, journal);
    }
    return { ok: true, rolledBack: false, restarted };
  }

  const what = `${result.component} ${result.bounced ? 'did not come back with the new certificates' : 'could not be restarted'} within ${Math.round(ctx.config.restart.verifyTimeout / 1000)}s: ${result.reason}`;
  if (!journal) {
    ctx.log.error({ component: result.component }, what);
    return { ok: false, rolledBack: false, restarted };
  }
  journal.error = what;
  const now = ctx.now().getTime();
  const previousValid = journal.entries.every((e) => Date.parse(e.oldNotAfter) > now + ROLLBACK_MARGIN_MS);
  if (!previousValid) {
    ctx.log.fatal(
      { component: result.component, runId: journal.id },
      `${what}. NOT rolling back: the previous certificates have expired (or expire within minutes), so the new ones stay. ` +
        `Check ${result.component} now (crictl ps, kubelet logs); backups are in ${ctx.paths.backups}/${journal.id}`,
    );
    journal.phase = 'failed';
    writeJournal(ctx.paths, journal);
    return { ok: false, rolledBack: false, restarted };
  }
  ctx.log.error({ component: result.component, runId: journal.id }, `${what}; rolling back run ${journal.id}`);
  await notify(`rolling back: ${result.component} failed verification`);
  restoreRun(ctx.paths, journal);
  const again = inRestartOrder(restarted.length ? restarted : [result.component]);
  const back = await bounceInOrder(ctx, notify, again, () => undefined);
  if (back.ok) {
    ctx.log.error({ runId: journal.id, restored: journal.entries.map((e) => e.name) }, `rolled back run ${journal.id}: the previous certificates are in place and served again`);
  } else {
    ctx.log.fatal({ runId: journal.id, component: back.component }, `rolled back run ${journal.id}, but ${back.component} did not come back with the restored certificates either: ${back.reason}`);
  }
  journal.phase = 'rolled-back';
  writeJournal(ctx.paths, journal);
  return { ok: false, rolledBack: true, restarted };
}
