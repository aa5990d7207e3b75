// Aqueduct registers itself in Thalassa as the original did:
// thalassa-aqueduct@<version> on its API port, with meta.label, checking in
// well within its time to live, and leaving when it stops.
import { every, type Clock } from '../../clock.js';
import os from 'node:os';
import type { Logger } from 'pino';
import { registryRequest } from './registry-http.js';

export interface SelfRegistrationOptions {
  apiUrl: string;
  version: string;
  host: string;
  port: number;
  label?: string;
  intervalMs: number;
  log: Logger;
  clock: Clock;
}

/** The address others reach this host at: the API host, or for a wildcard the first external IPv4. */
export function advertisedHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(os.networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export function startSelfRegistration(opts: SelfRegistrationOptions): { stop(): Promise<void> } {
  const url = `${opts.apiUrl}/registrations/thalassa-aqueduct/${encodeURIComponent(opts.version)}/${advertisedHost(opts.host)}/${opts.port}`;
  // Three missed check-ins before the registry forgets us.
  const body = JSON.stringify({
    secondsToExpire: Math.ceil((opts.intervalMs * 3) / 1000),
    ...(opts.label !== undefined && { label: opts.label }),
  });
  let failing = false;
  const checkIn = async () => {
    try {
      const res = await registryRequest('POST', url, body);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      if (failing) opts.log.info({ registration: url }, 'registered in the registry again');
      failing = false;
    } catch (err) {
      if (!failing) opts.log.warn({ err: (err as Error).message }, 'self-registration failed; retrying');
      failing = true;
    }
  };
  void checkIn();
  const stopTimer = every(opts.clock, opts.intervalMs, () => void checkIn());
  return {
    async stop() {
      stopTimer();
      await registryRequest('DELETE', url, undefined, 2000).catch(() => undefined);
    },
  };
}
