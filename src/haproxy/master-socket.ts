// The master CLI of a master-worker HAProxy (-W -S <socket>): reload, and
// `show proc` to learn whether the reload worked. On 2.6 `reload` prints
// nothing, so success is read from the reload and failure counters and the
// worker pid before and after.
import { systemClock, type Clock } from '../clock.js';
import { parseShowProc, type ProcInfo } from '../core/haproxy-output/runtime-output.js';
import { reload, showProc as showProcCommand } from './commands.js';
import { sendCommand } from './socket-client.js';

export interface ReloadOutcome {
  ok: boolean;
  workerPid?: number;
  message: string;
}

export async function showProc(masterSocket: string, timeoutMs = 5000): Promise<ProcInfo> {
  const out = await sendCommand(masterSocket, showProcCommand().command, timeoutMs);
  const info = parseShowProc(out);
  if (info === undefined)
    throw new Error(`unexpected 'show proc' answer on ${masterSocket}: ${out.trim().slice(0, 200)}`);
  return info;
}

/** show proc, retried while the master re-executes after a reload and refuses connections. */
export async function showProcRetrying(
  masterSocket: string,
  attempts = 50,
  clock: Clock = systemClock,
): Promise<ProcInfo> {
  for (let i = 1; ; i++) {
    try {
      return await showProc(masterSocket);
    } catch (err) {
      if (i >= attempts) throw err;
      await clock.sleep(20);
    }
  }
}

/** Sends `reload` and waits until the master reports it done, ok or failed. */
export async function reloadViaMaster(
  masterSocket: string,
  timeoutMs = 60_000,
  clock: Clock = systemClock,
): Promise<ReloadOutcome> {
  const before = await showProcRetrying(masterSocket, 50, clock);
  // The master re-executes itself on reload and drops this connection: an error here is expected.
  await sendCommand(masterSocket, reload().command, 5000).catch(() => undefined);
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    await clock.sleep(20);
    const after = await showProc(masterSocket, 2000).catch(() => undefined);
    if (after !== undefined && after.reloads > before.reloads) {
      if (after.failedReloads > before.failedReloads) {
        return { ok: false, message: 'HAProxy failed to load the new config; the previous workers keep serving' };
      }
      const fresh = after.workers.find((pid) => !before.workers.includes(pid));
      if (fresh !== undefined) return { ok: true, workerPid: fresh, message: 'reloaded' };
    }
    if (clock.now() > deadline) return { ok: false, message: `no new worker within ${timeoutMs} ms after reload` };
  }
}
