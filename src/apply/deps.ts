/**
 * What the apply stage needs from the outside world, and nothing more: host paths, the validated config, a logger,
 * the sd_notify status line and the clock. Commands build it; the apply stage never sees the CLI's context.
 */
import type { RestartDeps } from '../restart/orchestrate.js';

export type ApplyDeps = RestartDeps;
