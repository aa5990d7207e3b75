// Whose HAProxy is this? Every config Aqueduct writes carries its instance
// mark (core/rendering/instance-mark.ts); a worker reports it back in
// `show info`. A reload counts as done only when the new worker answers on
// Aqueduct's own stats socket with its pid and that mark: then it serves the
// file this instance wrote, not some other HAProxy's on the same host.
import { systemClock, type Clock } from '../clock.js';
import { parseWorkerIdentity, type WorkerIdentity } from '../core/rendering/instance-mark.js';
import { onWorker, showInfo } from './commands.js';
import { sendCommand } from './socket-client.js';

/** `show info` of a worker through its master's CLI (`@!<pid>`), or of the first worker without a pid. */
export async function identityViaMaster(
  masterSocket: string,
  pid?: number,
  timeoutMs = 2000,
): Promise<WorkerIdentity | undefined> {
  const out = await sendCommand(masterSocket, onWorker(pid, showInfo()).command, timeoutMs).catch(() => '');
  return parseWorkerIdentity(out);
}

export interface OwnWorkerCheck {
  statsSocket: string;
  mark: string;
  /** The new worker's pid, as its master or the pid file reported it. */
  pid: number;
  /** Where to ask the worker directly when the stats socket does not answer it (master-worker modes). */
  masterSocket?: string;
  cfgPath: string;
  timeoutMs?: number;
  clock?: Clock;
}

/** Undefined once the worker answers on the stats socket as ours; otherwise why not. */
export async function confirmOwnWorker(c: OwnWorkerCheck): Promise<string | undefined> {
  const clock = c.clock ?? systemClock;
  const deadline = clock.now() + (c.timeoutMs ?? 5000);
  let last = 'no answer';
  for (;;) {
    const answer = await sendCommand(c.statsSocket, showInfo().command, 1000).then(
      (out) => parseWorkerIdentity(out),
      (err: unknown) => (err as Error).message,
    );
    if (typeof answer === 'object' && answer.pid === c.pid) {
      if (answer.description === c.mark) return undefined;
      return notOurs(c, answer.description);
    }
    if (answer !== undefined) last = typeof answer === 'string' ? answer : `worker ${answer.pid} answered`;
    if (clock.now() >= deadline) break;
    await clock.sleep(5);
  }
  const direct = c.masterSocket === undefined ? undefined : await identityViaMaster(c.masterSocket, c.pid);
  if (direct !== undefined && direct.description !== c.mark) return notOurs(c, direct.description);
  return `the new worker ${c.pid} does not answer on the stats socket ${c.statsSocket} (${last})`;
}

const notOurs = (c: OwnWorkerCheck, description: string | undefined): string =>
  `the new worker ${c.pid} serves a config this instance did not write (its description is ${description === undefined ? 'unset' : JSON.stringify(description)}, not ${c.mark}): the HAProxy ${c.masterSocket === undefined ? '' : `behind ${c.masterSocket} `}does not load ${c.cfgPath}`;
