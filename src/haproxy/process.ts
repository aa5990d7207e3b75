// How Aqueduct runs HAProxy, in three modes behind one interface:
//   managed   Aqueduct starts `haproxy -W -db -S <master socket>` as its child,
//             restarts it with backoff if it dies, stops it on shutdown, and
//             adopts one a previous Aqueduct left running.
//   external  HAProxy runs elsewhere (a sidecar container) in master-worker
//             mode; Aqueduct writes the config and reloads via the master socket.
//   pidfile   the original's way: `haproxy -D -f cfg -p pidfile -sf <old pids>`,
//             optionally through sudo. The daemon outlives Aqueduct.
import { every, systemClock, type Clock } from '../clock.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { lstat, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { accessWriter, type AccessWriter } from '../log.js';
import { classifyHaproxyLine, parseShowProc } from '../core/haproxy-output/runtime-output.js';
import type { ProcessStatus } from '../core/haproxy-output/process-status.js';
import { reloadViaMaster, showProc, showProcRetrying, type ReloadOutcome } from './master-socket.js';
import { showProc as showProcCommand } from './commands.js';
import { sendCommand, socketAlive } from './socket-client.js';
import { confirmOwnWorker, identityViaMaster } from './worker-identity.js';
import { AqueductError } from '../core/issues.js';

const run = promisify(execFile);
const pathExists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

export type HaproxyMode = 'managed' | 'external' | 'pidfile';

export interface HaproxyController {
  readonly mode: HaproxyMode;
  /**
   * At startup: whether the HAProxy on the master socket, if one answers, is
   * this instance's. Managed mode adopts one that carries its mark and
   * refuses to start beside one that does not; external mode says which.
   */
  claim(): Promise<void>;
  /** Whether an HAProxy is serving now. */
  running(): Promise<boolean>;
  /** Starts HAProxy on the installed config when none runs; otherwise reloads it. */
  reload(): Promise<ReloadOutcome>;
  /** Pid of the current worker (or daemon), when known. */
  workerPid(): Promise<number | undefined>;
  /** Workers still finishing connections from before a reload; undefined when unknown or not tracked. */
  oldWorkers(): Promise<number | undefined>;
  /**
   * Tells `listener` when HAProxy goes away or comes back outside a reload:
   * at once for our own child, within `watchMs` through the master socket
   * for one we adopted or one run by someone else.
   */
  watch(listener: (e: HaproxyEvent) => void, watchMs?: number): void;
  stop(): Promise<void>;
}

/** HAProxy exited (crashed, killed) or answers again, outside a reload Aqueduct asked for. */
export interface HaproxyEvent {
  type: 'exited' | 'back';
  message: string;
}

export interface ProcessOptions {
  haproxyBin: string;
  /** The environment HAProxy runs with: the minimal one of environment.ts, never Aqueduct's own. */
  env: NodeJS.ProcessEnv;
  cfgPath: string;
  masterSocket: string;
  pidPath: string;
  statsSocket: string;
  /** This instance's mark, which every config it writes carries (core/rendering/instance-mark.ts). */
  mark: string;
  sudo: boolean;
  log: Logger;
  /** First restart delay after HAProxy died; doubles up to 30 s. */
  restartBackoffMs?: number;
  /** How long a stop lets requests in flight finish before HAProxy is stopped hard (default 30 s). */
  stopTimeoutMs?: number;
  /** Time, for tests to drive (default: the system's). */
  clock?: Clock;
  /** Where a managed HAProxy's access-log lines go (default: through the log, at info). */
  accessLog?: AccessWriter;
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buffer = '';
  stream?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const l of lines) if (l.trim() !== '') onLine(l);
  });
}

/** Master-worker HAProxy: managed (we start it) or external (someone else does). */
export class MasterWorkerHaproxy implements HaproxyController {
  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  private child: ChildProcess | undefined;
  private stopping = false;
  private backoff: number;
  /** Cancels the pending restart, when one is pending. */
  private restartTimer: (() => void) | undefined;
  private lastOutput: string[] = [];
  /** Lines HAProxy has printed since we started it: marks where a reload's output begins. */
  private outputLines = 0;
  private listeners: ((e: HaproxyEvent) => void)[] = [];
  private stopWatchdog: (() => void) | undefined;
  /** Whether HAProxy answered at the watchdog's last look. */
  private seenAlive: boolean | undefined;
  /** A master we did not start but found carrying our mark (a previous run's): ours to reload and stop. */
  private adopted = false;

  constructor(
    readonly mode: 'managed' | 'external',
    private readonly opts: ProcessOptions,
  ) {
    this.backoff = opts.restartBackoffMs ?? 1000;
  }

  async claim(): Promise<void> {
    const { masterSocket, mark, log } = this.opts;
    if (!(await pathExists(masterSocket))) return;
    const answer = await sendCommand(masterSocket, showProcCommand().command, 1000).catch(() => undefined);
    if (answer === undefined) return; // a socket file nobody answers on: a previous run's, HAProxy starts anew
    const master = parseShowProc(answer)?.masterPid;
    const identity = await identityViaMaster(masterSocket);
    const held = `master pid ${master ?? '?'}, its worker's description ${JSON.stringify(identity?.description ?? '')}`;
    if (identity?.description === mark) {
      this.adopted = true;
      log.info({ masterSocket, masterPid: master }, 'adopting the HAProxy this instance left running');
    } else if (this.mode === 'managed') {
      throw new AqueductError(
        'startup',
        `--haproxyMasterSocket ${masterSocket}: a live HAProxy this instance did not start answers there (${held}, not ${mark}). Another Aqueduct or HAProxy owns it and is left untouched; stop it, or give this instance its own socket (the default, <stateDir>/haproxy.master.sock, is)`,
      );
    } else {
      log.warn(
        { masterSocket, masterPid: master, description: identity?.description, mark },
        `the HAProxy behind ${masterSocket} does not serve a config this instance wrote yet (a bootstrap config, or another file than ${this.opts.cfgPath}); the first reload tells which, and is recorded failed if its worker is not ours`,
      );
    }
  }

  async running(): Promise<boolean> {
    // Our own child is running even while its master re-executes for a reload and refuses connections.
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) return true;
    // No socket file: no master (a re-executing master keeps its socket file), so no retries to wait
    // through; they cost a cold start a quarter of a second.
    if (!(await pathExists(this.opts.masterSocket))) return false;
    // Retries ride out a master re-executing for a reload; a managed HAProxy never seen alive is not in one.
    const attempts = this.mode === 'managed' && this.seenAlive !== true ? 1 : 5;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (await socketAlive(this.opts.masterSocket, showProcCommand().command)) {
        this.seenAlive = true; // the watchdog reports it going away from now on, even before its first look
        return true;
      }
      await this.clock.sleep(50);
    }
    return false;
  }

  async workerPid(): Promise<number | undefined> {
    const info = await showProcRetrying(this.opts.masterSocket, 10, this.clock).catch(() => undefined);
    return info?.workers[0];
  }

  async oldWorkers(): Promise<number | undefined> {
    // One short try: a metrics scrape must not wait on an HAProxy that does not answer.
    return (await showProc(this.opts.masterSocket, 2000).catch(() => undefined))?.oldWorkers.length;
  }

  watch(listener: (e: HaproxyEvent) => void, watchMs = 1000): void {
    this.listeners.push(listener);
    if (this.stopWatchdog !== undefined) return;
    // Our own child reports its exit itself; anything else is looked at through the master socket.
    this.stopWatchdog = every(this.clock, watchMs, () => {
      if (this.child !== undefined || this.stopping) return;
      void socketAlive(this.opts.masterSocket, showProcCommand().command, Math.min(watchMs, 1000)).then((alive) => {
        if (this.child !== undefined || this.stopping) return;
        if (this.seenAlive === true && !alive)
          this.emit({
            type: 'exited',
            message: `HAProxy stopped answering on its master socket ${this.opts.masterSocket}`,
          });
        if (this.seenAlive === false && alive)
          this.emit({ type: 'back', message: 'HAProxy answers on its master socket again' });
        this.seenAlive = alive;
      });
    });
  }

  private emit(e: HaproxyEvent): void {
    for (const l of this.listeners) l(e);
  }

  async reload(): Promise<ReloadOutcome> {
    if (await this.running()) {
      const mark = this.outputLines;
      const outcome = await this.confirmed(await reloadViaMaster(this.opts.masterSocket, undefined, this.clock));
      if (outcome.ok) this.seenAlive = true;
      if (outcome.ok || this.child === undefined) return outcome;
      // HAProxy 2.6's master answers a failed reload without saying why; our child's stderr does.
      await this.clock.sleep(100);
      const printed = this.lastOutput.slice(Math.max(0, this.lastOutput.length - (this.outputLines - mark)));
      const alerts = printed
        .filter((l) => l.includes('[ALERT]'))
        .map((l) => l.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, ''));
      return alerts.length === 0 ? outcome : { ...outcome, message: `${outcome.message}: ${alerts.join(' | ')}` };
    }
    if (this.mode === 'external') {
      return { ok: false, message: `no HAProxy answers on the master socket ${this.opts.masterSocket}` };
    }
    return this.start();
  }

  private async start(): Promise<ReloadOutcome> {
    const { haproxyBin, cfgPath, masterSocket, log } = this.opts;
    this.restartTimer?.();
    this.restartTimer = undefined;
    // Never two masters: with SO_REUSEPORT both would bind and serve.
    if (this.child !== undefined && this.child.exitCode === null) return { ok: false, message: 'HAProxy is starting' };
    this.lastOutput = [];
    const args = ['-W', '-db', '-S', `${masterSocket},mode,600`, '-f', cfgPath];
    log.info({ haproxy: haproxyBin, args }, 'starting HAProxy');
    // Its own process group: a Ctrl-C in a terminal reaches Aqueduct alone, which then stops HAProxy softly.
    const child = spawn(haproxyBin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: this.opts.env });
    this.child = child;
    const access = this.opts.accessLog ?? accessWriter(log, 'pretty');
    const record = (line: string) => {
      const c = classifyHaproxyLine(line);
      if (c.kind === 'access') {
        access(c.json, c.request, c.summary);
        return;
      }
      this.lastOutput.push(line);
      this.outputLines++;
      if (this.lastOutput.length > 50) this.lastOutput.shift();
      log[c.level]({ source: 'haproxy' }, line);
    };
    pipeLines(child.stdout, record);
    pipeLines(child.stderr, record);
    const exited = new Promise<ReloadOutcome>((resolve) => {
      child.once('error', (err) => resolve({ ok: false, message: `cannot start ${haproxyBin}: ${err.message}` }));
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const message = `HAProxy exited (${signal ?? `code ${String(code)}`}): ${this.lastOutput.slice(-5).join(' | ')}`;
        if (!this.stopping) {
          log.error({ code, signal }, message);
          this.seenAlive = false;
          this.emit({ type: 'exited', message });
          this.scheduleRestart();
        }
        resolve({ ok: false, message });
      });
    });
    const ready = (async (): Promise<ReloadOutcome> => {
      for (let i = 0; i < 600; i++) {
        const info = await showProc(masterSocket, 1000).catch(() => undefined);
        const pid = info?.workers[0];
        if (pid !== undefined) return { ok: true, workerPid: pid, message: 'started' };
        await this.clock.sleep(20);
      }
      return { ok: false, message: 'HAProxy did not report a worker within 12 s' };
    })();
    const outcome = await this.confirmed(await Promise.race([ready, exited]));
    if (outcome.ok) {
      this.backoff = this.opts.restartBackoffMs ?? 1000;
      if (this.seenAlive === false)
        this.emit({ type: 'back', message: `HAProxy started again (worker ${outcome.workerPid ?? '?'})` });
      this.seenAlive = true;
    }
    return outcome;
  }

  /** A reload or start is ok only once its new worker answers on our stats socket as ours. */
  private async confirmed(outcome: ReloadOutcome): Promise<ReloadOutcome> {
    return confirmOutcome(outcome, this.opts, this.opts.masterSocket, this.clock);
  }

  private scheduleRestart(): void {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 30_000);
    this.opts.log.warn({ delayMs: delay }, 'restarting HAProxy after backoff');
    this.restartTimer = this.clock.after(delay, () => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      void this.start().then((o) => {
        if (!o.ok) this.opts.log.error({ reason: o.message }, 'HAProxy restart failed');
      });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.restartTimer?.();
    this.stopWatchdog?.();
    // Only a master this instance started or adopted is its to stop: never another's on a shared socket.
    if (this.mode === 'external' || (this.child === undefined && !this.adopted)) return;
    const info = await showProc(this.opts.masterSocket).catch(() => undefined);
    const pid = this.child?.pid ?? info?.masterPid;
    if (pid === undefined) return;
    if (await this.stopMaster(pid)) await this.removeSockets();
  }

  /** Soft stop: listeners close now, requests in flight finish; hard stop after the stop timeout. True once it is gone. */
  private async stopMaster(pid: number): Promise<boolean> {
    try {
      process.kill(pid, 'SIGUSR1');
    } catch {
      return true;
    }
    if (await this.exitsWithin(pid, this.opts.stopTimeoutMs ?? 30_000)) return true;
    this.opts.log.warn({ pid }, 'HAProxy did not finish its requests within the stop timeout; stopping it hard');
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return true;
    }
    return this.exitsWithin(pid, 2000);
  }

  /** Whether the process is gone within ms, looked at every 50 ms. */
  private async exitsWithin(pid: number, ms: number): Promise<boolean> {
    const deadline = this.clock.now() + ms;
    while (this.clock.now() < deadline) {
      if (!(await processAlive(pid))) return true;
      await this.clock.sleep(50);
    }
    return !(await processAlive(pid));
  }

  /** HAProxy leaves its sockets behind when it exits: a stopped instance leaves no stale socket files. */
  private async removeSockets(): Promise<void> {
    for (const socket of [this.opts.masterSocket, this.opts.statsSocket])
      await rm(socket, { force: true }).catch((err: Error) =>
        this.opts.log.warn({ socket, err: err.message }, 'could not remove a socket HAProxy left behind'),
      );
  }
}

async function confirmOutcome(
  outcome: ReloadOutcome,
  opts: ProcessOptions,
  masterSocket: string | undefined,
  clock: Clock,
): Promise<ReloadOutcome> {
  if (!outcome.ok || outcome.workerPid === undefined) return outcome;
  const problem = await confirmOwnWorker({
    statsSocket: opts.statsSocket,
    mark: opts.mark,
    pid: outcome.workerPid,
    cfgPath: opts.cfgPath,
    clock,
    ...(masterSocket !== undefined && { masterSocket }),
  });
  return problem === undefined ? outcome : { ok: false, workerPid: outcome.workerPid, message: problem };
}

/** Whether a process with this pid exists (signal 0 probes without touching it). */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPids(pidPath: string): Promise<number[]> {
  const text = await readFile(pidPath, 'utf8').catch(() => '');
  return text
    .split(/\s+/)
    .filter((t) => /^\d+$/.test(t))
    .map(Number);
}

/** The original's daemon mode: a new process per reload, told to take over from the old ones. */
export class PidfileHaproxy implements HaproxyController {
  readonly mode = 'pidfile' as const;

  constructor(private readonly opts: ProcessOptions) {}

  /** The daemons are found through the pid file at each reload; their identity is checked there. */
  async claim(): Promise<void> {}

  private async alivePids(): Promise<number[]> {
    const pids = await readPids(this.opts.pidPath);
    const alive: number[] = [];
    for (const p of pids) if (await processAlive(p)) alive.push(p);
    return alive;
  }

  async running(): Promise<boolean> {
    return (await this.alivePids()).length > 0;
  }

  async workerPid(): Promise<number | undefined> {
    return (await this.alivePids())[0];
  }

  async oldWorkers(): Promise<undefined> {
    return undefined; // old daemons are not tracked in this mode
  }

  async reload(): Promise<ReloadOutcome> {
    const { haproxyBin, cfgPath, pidPath, statsSocket, sudo } = this.opts;
    const old = await this.alivePids();
    const args = ['-D', '-f', cfgPath, '-p', pidPath];
    // -x takes the listening sockets over from the old process: no refused connections.
    if (old.length > 0) args.push('-x', statsSocket, '-sf', ...old.map(String));
    const [cmd, cmdArgs] = sudo ? ['sudo', ['-n', haproxyBin, ...args]] : [haproxyBin, args];
    try {
      await run(cmd, cmdArgs, { timeout: 60_000, env: this.opts.env });
    } catch (err) {
      return { ok: false, message: commandFailure(cmd, cmdArgs, err) };
    }
    const pids = await this.alivePids();
    const fresh = pids.find((p) => !old.includes(p));
    if (fresh === undefined) return { ok: false, message: `no new HAProxy pid in ${pidPath}` };
    const outcome = { ok: true, workerPid: fresh, message: old.length > 0 ? 'reloaded' : 'started' };
    return confirmOutcome(outcome, this.opts, undefined, this.opts.clock ?? systemClock);
  }

  /** The original's daemons are looked for by their pid file at each reconcile; no watchdog here. */
  watch(): void {}

  /** A daemon outlives Aqueduct, as in the original: a restarted Aqueduct takes it over. */
  async stop(): Promise<void> {}
}

/**
 * What a spawned command's failure says: its stderr and exit status, or why
 * it could not run at all (sudo missing is ENOENT with an empty stderr).
 */
export function commandFailure(cmd: string, args: readonly string[], err: unknown): string {
  const e = err as { stderr?: string; code?: number | string; signal?: string | null; message: string };
  const stderr = (e.stderr ?? '').trim();
  const status =
    typeof e.code === 'number'
      ? `exit status ${e.code}`
      : e.signal
        ? `killed by ${e.signal}`
        : e.code === 'ENOENT'
          ? `${cmd} not found on PATH`
          : e.message;
  return `${cmd} ${args.join(' ')} failed (${status})${stderr === '' ? '' : `: ${stderr}`}`;
}

export function createController(mode: HaproxyMode, opts: ProcessOptions): HaproxyController {
  return mode === 'pidfile' ? new PidfileHaproxy(opts) : new MasterWorkerHaproxy(mode, opts);
}

/** From the master socket in master-worker modes (one short try), else the worker pid the controller knows. */
export async function processStatus(controller: HaproxyController, masterSocket: string): Promise<ProcessStatus> {
  if (controller.mode !== 'pidfile') {
    const info = await showProc(masterSocket, 1000).catch(() => undefined);
    if (info !== undefined)
      return {
        mode: controller.mode,
        masterPid: info.masterPid,
        workers: info.workers,
        reloads: info.reloads,
        failedReloads: info.failedReloads,
        oldWorkers: info.oldWorkers.length,
      };
  }
  const workerPid = await controller.workerPid().catch(() => undefined);
  return { mode: controller.mode, ...(workerPid !== undefined && { workerPid }) };
}
