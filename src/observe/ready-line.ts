// The one line that tells a person, once HAProxy first serves, what is served where.
import type { Logger } from 'pino';
import type { RunConfig } from '../config.js';
import type { ApplyRecord } from '../core/planning/ledger.js';

export interface ServedFrontend {
  name: string;
  binds: readonly string[];
}

export interface Endpoints {
  api: string;
  /** HAProxy's Prometheus exporter, when --haproxyMetricsBind is set. */
  haproxyMetrics?: string;
}

/** "ready: 2 frontends (myapp on 127.0.0.1:8080, db on :5432); API on http://127.0.0.1:10000, dashboard on …/" */
export function readyLine(frontends: readonly ServedFrontend[], at: Endpoints): string {
  const shown = frontends.slice(0, 5).map((f) => `${f.name} on ${f.binds.join(', ')}`);
  if (frontends.length > shown.length) shown.push(`${frontends.length - shown.length} more`);
  const served =
    frontends.length === 0
      ? 'no frontends yet'
      : `${frontends.length} frontend${frontends.length === 1 ? '' : 's'} (${shown.join('; ')})`;
  const metrics = at.haproxyMetrics === undefined ? '' : `; HAProxy metrics on http://${at.haproxyMetrics}/metrics`;
  return `ready: ${served}; API on ${at.api}, dashboard on ${at.api}/${metrics}`;
}

/** Where a person reaches what this process serves, for the ready line. */
export function endpointsOf(config: RunConfig): Endpoints {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const api = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  return { api, ...(config.haproxyMetricsBind !== undefined && { haproxyMetrics: config.haproxyMetricsBind }) };
}

/** A ledger listener that logs the ready line at the first apply that changed HAProxy, and never again. */
export function announceReady(
  log: Logger,
  frontends: () => readonly ServedFrontend[],
  at: Endpoints,
): (r: ApplyRecord) => void {
  let announced = false;
  return (r) => {
    if (announced || r.result !== 'ok' || r.plan === 'noop') return;
    announced = true;
    log.info(readyLine(frontends(), at));
  };
}
