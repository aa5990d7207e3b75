// Runs the real `aqueduct run` (bin/aqueduct.js) against a real HAProxy in a
// temporary directory, and reads what it logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { showProc } from '../../src/haproxy/master-socket.js';
import { ROOT } from './cli.js';
import { tempDir } from './fixtures.js';
import { freePort, HAPROXY_BIN } from './haproxy.js';
import { parsePrometheus, sample } from './prometheus.js';

export interface LogLine {
  msg: string;
  plan?: string;
  result?: string;
  reasons?: string[];
  error?: string;
  workerPid?: number;
  [key: string]: unknown;
}

export interface RunningAqueduct {
  dir: string;
  manifests: string;
  cfgPath: string;
  statsSocket: string;
  masterSocket: string;
  stateDir: string;
  /** Base URL of its REST API, http://127.0.0.1:<port>. */
  api: string;
  child: ChildProcess;
  logs: LogLine[];
  /** Resolves with the first log line (from now on, or already seen after `since`) matching. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs?: number, since?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves once Aqueduct has logged nothing for `ms` (HAProxy's lines aside): the previous step has settled. Returns the log length. */
  quiet(ms?: number): Promise<number>;
}

export interface AqueductOptions {
  dir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  bin?: string;
  /** Leave out the default --haproxyMode managed and socket flags. */
  bare?: boolean;
  /** Only --manifests, --haproxyCfgPath and --haproxyBin: every path Aqueduct owns takes its default. */
  defaults?: boolean;
  /** Its own process group, as a command started from a terminal: a signal to the group reaches all it started there. */
  detached?: boolean;
  /**
   * Run as this unprivileged user (through setpriv when the tests run as
   * root, where root would read what the user cannot); its directory is
   * handed to that user.
   */
  asUser?: { uid: number; gid: number };
}

/** nobody:nogroup, for tests where root would hide a permission failure. */
export const NOBODY = { uid: 65534, gid: 65534 };

/** The command line, run as `user` when the tests are root. */
function asUser(argv: string[], user: { uid: number; gid: number } | undefined): string[] {
  if (user === undefined || process.getuid?.() !== 0) return argv;
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...argv];
}

type Paths = Pick<RunningAqueduct, 'cfgPath' | 'statsSocket' | 'masterSocket' | 'stateDir'>;

export async function startAqueductProcess(opts: AqueductOptions = {}): Promise<RunningAqueduct> {
  const dir = opts.dir ?? (await tempDir('aqueduct-run-'));
  const manifests = path.join(dir, 'manifests');
  await mkdir(manifests, { recursive: true });
  if (opts.asUser !== undefined && process.getuid?.() === 0) {
    await chown(dir, opts.asUser.uid, opts.asUser.gid);
    await chown(manifests, opts.asUser.uid, opts.asUser.gid);
  }
  const state = path.join(dir, opts.defaults === true ? 'aqueduct-state' : 'state');
  const paths: Paths = {
    cfgPath: path.join(dir, 'haproxy.cfg'),
    statsSocket: opts.defaults === true ? path.join(state, 'haproxy.stats.sock') : path.join(dir, 'stats.sock'),
    masterSocket: opts.defaults === true ? path.join(state, 'haproxy.master.sock') : path.join(dir, 'master.sock'),
    stateDir: state,
  };
  // Every test Aqueduct gets its own loopback API port, through the env vars so that bare runs get one too.
  const apiPort = Number(opts.env?.['AQUEDUCT_PORT'] ?? (await freePort()));
  const [cmd = process.execPath, ...cmdArgs] = asUser(commandLine(opts, manifests, paths), opts.asUser);
  const child = spawn(cmd, cmdArgs, {
    cwd: dir,
    // No registry unless a test asks for one: nothing may depend on a Thalassa on the default ports.
    env: {
      ...process.env,
      AQUEDUCT_HOST: '127.0.0.1',
      AQUEDUCT_PORT: String(apiPort),
      AQUEDUCT_REGISTRY: 'none',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached === true,
  });
  return {
    dir,
    manifests,
    ...paths,
    api: `http://127.0.0.1:${apiPort}`,
    child,
    ...logsOf(child),
    stop: stopper(child, paths, opts),
  };
}

/** `aqueduct run` with this test's paths (none for a bare run), then the test's own arguments. */
function commandLine(opts: AqueductOptions, manifests: string, paths: Paths): string[] {
  const base = opts.bare
    ? []
    : opts.defaults === true
      ? ['--manifests', manifests, '--haproxyCfgPath', paths.cfgPath, '--haproxyBin', HAPROXY_BIN]
      : [
          ...['--manifests', manifests, '--haproxyCfgPath', paths.cfgPath],
          ...['--haproxySocketPath', paths.statsSocket, '--haproxyMasterSocket', paths.masterSocket],
          ...['--haproxyMode', 'managed', '--stateDir', paths.stateDir, '--haproxyBin', HAPROXY_BIN],
        ];
  return [
    process.execPath,
    // For benchmarks: PROFILE_DIR=/tmp/prof writes Aqueduct's CPU profile there when it exits.
    ...(process.env['PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['PROFILE_DIR']}`] : []),
    path.join(ROOT, 'bin', opts.bin ?? 'aqueduct.js'),
    ...(opts.bin === 'thalassa-aqueduct.js' ? [] : ['run']),
    ...base,
    ...(opts.args ?? []),
  ];
}

/** The process's JSON log lines as they come, with waits on them. */
function logsOf(child: ChildProcess): Pick<RunningAqueduct, 'logs' | 'waitFor' | 'quiet'> {
  const logs: LogLine[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let buffer = '';
  let stderr = '';
  let lastLineAt = Date.now();
  const take = (line: LogLine) => {
    logs.push(line);
    // HAProxy's own chatter (health checks) says nothing about whether Aqueduct has settled.
    if (line['source'] !== 'haproxy' && line['source'] !== 'access') lastLineAt = Date.now();
    for (const w of waiters.filter((x) => x.pred(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  };
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (buffer + d.toString()).split('\n');
    buffer = lines.pop() ?? '';
    for (const raw of lines) take(parseLine(raw));
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const lastLogs = () =>
    logs
      .slice(-15)
      .map((l) => JSON.stringify(l))
      .join('\n');
  return {
    logs,
    waitFor(pred, timeoutMs = 15_000, since) {
      const seen = since === undefined ? undefined : logs.slice(since).find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; last logs:\n${lastLogs()}`),
            ),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
    async quiet(ms = 400) {
      while (Date.now() - lastLineAt < ms) await new Promise((r) => setTimeout(r, 50));
      return logs.length;
    },
  };
}

function parseLine(raw: string): LogLine {
  try {
    return JSON.parse(raw) as LogLine;
  } catch {
    return { msg: raw };
  }
}

/** Stops the process; one that hangs is killed after 15 s, and its managed HAProxy with it. */
function stopper(child: ChildProcess, paths: Paths, opts: AqueductOptions): RunningAqueduct['stop'] {
  const exited = once(child, 'exit');
  return async (signal = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    // A managed HAProxy runs in its own process group: find it now, while Aqueduct can still say.
    const master = await showProc(paths.masterSocket, 1000).catch(() => undefined);
    child.kill(signal);
    // A test must never leave a process behind, even when shutdown hangs. (stop('SIGKILL') on
    // purpose leaves a managed HAProxy running: the adoption tests need it.)
    let forced = false;
    const killer = setTimeout(() => {
      forced = true;
      child.kill('SIGKILL');
    }, 15_000);
    const [code] = (await exited) as [number | null];
    clearTimeout(killer);
    if (forced && master !== undefined && !opts.bare) {
      try {
        process.kill(master.masterPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return code;
  };
}

/** Matches the ledger entry of an apply, by its fields (the apply's id, plan and result), never by its wording. */
export const isApply =
  (plan?: string, result = 'ok') =>
  (l: LogLine) =>
    typeof l['apply'] === 'number' &&
    typeof l.plan === 'string' &&
    (plan === undefined || l.plan === plan) &&
    l.result === result;

/** The heap in use Aqueduct reports on its /metrics, in bytes. */
export async function heapInUse(aq: Pick<RunningAqueduct, 'api'>): Promise<number> {
  const text = await (await fetch(`${aq.api}/metrics`)).text();
  return sample(parsePrometheus(text), 'nodejs_heap_size_used_bytes') ?? NaN;
}

/** Resolves once the API answers /healthz: the process is up and listening. */
export async function apiUp(aq: RunningAqueduct, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${aq.api}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline || aq.child.exitCode !== null) throw new Error(`the API at ${aq.api} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
