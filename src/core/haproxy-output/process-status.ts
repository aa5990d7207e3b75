// The shape of HAProxy's process report in GET /status, shared with the dashboard (ui/).

/** What an operator asks about HAProxy's processes: pids, reloads and old workers (GET /status, as `haproxy`). */
export interface ProcessStatus {
  /** How Aqueduct runs HAProxy: managed (its child), external (through the master socket), pidfile. */
  mode?: 'managed' | 'external' | 'pidfile';
  masterPid?: number;
  workers?: number[];
  reloads?: number;
  failedReloads?: number;
  oldWorkers?: number;
  workerPid?: number;
}
