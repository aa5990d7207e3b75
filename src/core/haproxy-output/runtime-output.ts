// Parsers for what HAProxy's master and runtime sockets print.

export interface ProcInfo {
  masterPid: number;
  reloads: number;
  failedReloads: number;
  workers: number[];
  oldWorkers: number[];
}

/**
 * `show proc` on the master socket:
 *   #<PID>  <type>  <reloads>  <uptime>  <version>
 *   8211    master  2 [failed: 1]  0d00h00m06s  2.6.12
 *   # workers
 *   8329    worker  1  0d00h00m01s  2.6.12
 *   # old workers
 *   ...
 */
export function parseShowProc(output: string): ProcInfo | undefined {
  let master: { pid: number; reloads: number; failed: number } | undefined;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  let group: 'workers' | 'old' | 'other' = 'other';
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      group = line === '# workers' ? 'workers' : line === '# old workers' ? 'old' : 'other';
      continue;
    }
    const m = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (m[2] === 'master') master = { pid, reloads: Number(m[3]), failed: Number(m[4] ?? 0) };
    else if (m[2] === 'worker' && group === 'workers') workers.push(pid);
    else if (m[2] === 'worker' && group === 'old') oldWorkers.push(pid);
  }
  if (master === undefined) return undefined;
  return { masterPid: master.pid, reloads: master.reloads, failedReloads: master.failed, workers, oldWorkers };
}

export interface ServerState {
  backend: string;
  server: string;
  address: string;
  port: number;
  /** srv_admin_state bit field: 0x01 forced maintenance, 0x08 forced drain, ... */
  adminState: number;
  operationalState: number;
  weight: number;
  /** srv_check_result: 0 unknown (not checked yet), 1 neutral, 2 failed, 3 passed, 4 passed on condition. */
  checkResult: number;
}

/** SRV_ADMF_RMAINT: HAProxy put the server in maintenance because its host name does not resolve. */
const RESOLUTION_MAINT = 0x20;

/** The server's host name did not resolve: HAProxy keeps it in maintenance (show stat: "MAINT (resolution)"). */
export const unresolved = (s: ServerState): boolean => (s.adminState & RESOLUTION_MAINT) !== 0;

/** The server is up and its last health check passed. */
export const checkPassed = (s: ServerState): boolean =>
  s.operationalState === 2 && (s.checkResult === 3 || s.checkResult === 4);

/**
 * `show map <file>`: its entries in order ("<id> <key> <value>" lines), or
 * undefined when HAProxy has no such map (it serves a config without it).
 */
export function parseShowMap(output: string): [string, string][] | undefined {
  if (/^(Unknown map|Missing map)/i.test(output.trim())) return undefined;
  const entries: [string, string][] = [];
  for (const line of output.split('\n')) {
    const [, key, ...value] = line.trim().split(/\s+/);
    if (key !== undefined && value.length > 0) entries.push([key, value.join(' ')]);
  }
  return entries;
}

/** `show servers state [backend]`, format version 1, columns read from its header line. */
export function parseServersState(output: string): ServerState[] {
  const lines = output.split('\n');
  const header = lines.find((l) => l.startsWith('# be_id'));
  if (header === undefined) return [];
  const cols = header.slice(2).trim().split(/\s+/);
  // Column positions looked up once: this runs over every server (100k at scale) on each deploy step.
  const [be, srv, addr, port, admin, op, weight, check] = [
    'be_name',
    'srv_name',
    'srv_addr',
    'srv_port',
    'srv_admin_state',
    'srv_op_state',
    'srv_uweight',
    'srv_check_result',
  ].map((name) => cols.indexOf(name));
  const states: ServerState[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '' || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    const get = (i: number | undefined): string => (i === undefined ? '' : (f[i] ?? ''));
    states.push({
      backend: get(be),
      server: get(srv),
      address: get(addr),
      port: Number(get(port)),
      adminState: Number(get(admin)),
      operationalState: Number(get(op)),
      weight: Number(get(weight)),
      checkResult: Number(get(check)),
    });
  }
  return states;
}

/**
 * `show stat` CSV (with its "# pxname,svname,..." header) as records with the
 * given columns (all when none are given). Reading only the wanted columns
 * matters at scale: 100k servers × 100 columns as objects took seconds.
 */
export function parseStatCsv(output: string, columns?: readonly string[]): Record<string, string>[] {
  const lines = output.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) return [];
  const all = header.slice(2).split(',');
  const wanted = (columns ?? all).map((c) => [c, all.indexOf(c)] as const).filter(([, i]) => i >= 0);
  const records: Record<string, string>[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split(',');
    const r: Record<string, string> = {};
    for (const [c, i] of wanted) r[c] = f[i] ?? '';
    records.push(r);
  }
  return records;
}

/** One line HAProxy printed: a request from the access log, or a message at the level HAProxy gave it. */
export type HaproxyLine =
  | { kind: 'access'; request: Record<string, unknown>; json: string; summary: string }
  | { kind: 'message'; level: 'debug' | 'info' | 'warn' | 'error'; text: string };

// Per-proxy chatter of every reload and the echo of our own runtime commands: debug, not news.
const NOISE = [
  /\bProxy \S+ (?:stopped|started)\b/,
  /\bStopping (?:frontend|backend|proxy) \S+ in \d+ ms\b/,
  /\bPausing (?:frontend|backend|proxy)\b/,
  / : CLI : /,
  /path to executable is/,
];

// The master's lifecycle on a reload or a stop, which HAProxy prints as warnings (even as an ALERT for a
// worker that exited with 0): normal events, logged as info. A non-zero exit stays an error.
const LIFECYCLE = [
  /\bexited with code 0\b/,
  /\bExiting Master process\.\.\./,
  /\bAll workers exited\. Exiting\.\.\. \(0\)/,
  /\bReexecuting Master process\b/,
  /\bStopping (?:frontend|backend|proxy) GLOBAL\b/,
];

/** Classifies a line of a managed HAProxy's output (stdout carries the access log, stderr its messages). */
export function classifyHaproxyLine(line: string): HaproxyLine {
  if (line.startsWith('{"type":')) {
    try {
      const request = JSON.parse(line) as Record<string, unknown>;
      return { kind: 'access', request, json: line.trim(), summary: accessSummary(request) };
    } catch {
      // A field HAProxy did not escape for JSON: kept as the message it is.
    }
  }
  if (NOISE.some((r) => r.test(line))) return { kind: 'message', level: 'debug', text: line };
  if (LIFECYCLE.some((r) => r.test(line))) return { kind: 'message', level: 'info', text: line };
  const level = line.startsWith('[ALERT]') ? 'error' : line.startsWith('[WARNING]') ? 'warn' : 'info';
  // A server coming up is good news, though HAProxy says it as a warning.
  if (level === 'warn' && / is UP\b/.test(line)) return { kind: 'message', level: 'info', text: line };
  return { kind: 'message', level, text: line };
}

function accessSummary(r: Record<string, unknown>): string {
  const route = `${String(r['frontend'])} → ${String(r['backend'])}/${String(r['server'])}`;
  return r['type'] === 'http'
    ? `${String(r['method'])} ${String(r['path'])} ${String(r['status'])} (${route})`
    : `tcp ${String(r['bytes_read'])} bytes (${route})`;
}
