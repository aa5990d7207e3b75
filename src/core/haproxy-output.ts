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

/** The server is up and its last health check passed. */
export const checkPassed = (s: ServerState): boolean =>
  s.operationalState === 2 && (s.checkResult === 3 || s.checkResult === 4);

/** `show servers state [backend]`, format version 1, columns read from its header line. */
export function parseServersState(output: string): ServerState[] {
  const lines = output.split('\n');
  const header = lines.find((l) => l.startsWith('# be_id'));
  if (header === undefined) return [];
  const cols = header.slice(2).trim().split(/\s+/);
  const at = (name: string): number => cols.indexOf(name);
  const states: ServerState[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '' || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    const get = (name: string): string => f[at(name)] ?? '';
    states.push({
      backend: get('be_name'),
      server: get('srv_name'),
      address: get('srv_addr'),
      port: Number(get('srv_port')),
      adminState: Number(get('srv_admin_state')),
      operationalState: Number(get('srv_op_state')),
      weight: Number(get('srv_uweight')),
      checkResult: Number(get('srv_check_result')),
    });
  }
  return states;
}

/** `show stat` CSV (with its "# pxname,svname,..." header) as records. */
export function parseStatCsv(output: string): Record<string, string>[] {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (header === undefined) return [];
  const cols = header.slice(2).split(',');
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const f = l.split(',');
      return Object.fromEntries(cols.map((c, i) => [c, f[i] ?? '']));
    });
}
