/** `history`: the runs on record, newest last — what each renewed and restarted, how it ended, whether rolled back. */
import type { Context } from '../cli/context.js';
import { readState } from '../apply/state.js';
import { listRuns } from '../apply/transaction.js';
import { buildHistoryReport, printHistory } from '../report/history.js';

export function historyCommand(ctx: Context): number {
  const { state, warning } = readState(ctx.paths.stateFile);
  if (warning) ctx.log.warn(warning);
  const report = buildHistoryReport(listRuns(ctx.paths), state);
  ctx.print(ctx.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : printHistory(report));
  return 0;
}
