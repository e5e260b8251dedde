/**
 * sd_notify STATUS= lines for `systemctl status` (the unit sets NotifyAccess=all, since the systemd-notify binary
 * the npm package spawns is our child, not the main process). Outside systemd (no NOTIFY_SOCKET) it does nothing;
 * a failure to notify is never a failure of the run.
 */
import notify from 'systemd-notify';

export type Notifier = (status: string) => Promise<void>;

export function createNotifier(env: NodeJS.ProcessEnv = process.env): Notifier {
  if (!env.NOTIFY_SOCKET) return async () => undefined;
  return async (status: string) => {
    try {
      await notify({ status });
    } catch {
      // systemd-notify missing or refused: status text is a courtesy, never a reason to fail
    }
  };
}
