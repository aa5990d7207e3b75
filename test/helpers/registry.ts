// `aqueduct registry` (the embedded, socket.io-publishing registry) as a
// real process on a loopback port, for tests that follow a registry.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { ROOT } from './cli.js';
import { obj, type ApiCall } from './api.js';
import type { JsonObject } from './fixtures.js';
import { waitForPort } from './haproxy.js';
import { parsePrometheus, sample } from './prometheus.js';
import { eventually } from './wait.js';

export interface EmbeddedRegistry {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function embeddedRegistry(port: number, persist?: string): EmbeddedRegistry {
  let child: ChildProcess | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'bin', 'aqueduct.js'),
          'registry',
          '--port',
          String(port),
          ...(persist ? ['--persist', persist] : []),
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(port);
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Registers 127.0.0.1:port as name@version in the registry, for ttl seconds. */
export async function registerIn(
  registry: EmbeddedRegistry,
  name: string,
  version: string,
  port: number,
  ttl = 60,
): Promise<void> {
  const r = await registryRequest(
    'POST',
    `${registry.url}/registrations/${name}/${version}/127.0.0.1/${port}`,
    JSON.stringify({ secondsToExpire: ttl }),
  );
  if (r.status !== 200) throw new Error(`registering ${name}@${version} on ${port}: ${r.status} ${r.body}`);
}

/**
 * Resolves once Aqueduct reports the registry unreachable and its last good
 * read older than `ms`: an outage that has outlasted the grace period, as the
 * process itself sees it (its /status), not as a fixed sleep guesses it.
 */
export async function outageLongerThan(api: ApiCall, ms: number): Promise<void> {
  const registry = async () => obj(await api('GET', '/status'))['registry'] as JsonObject;
  await eventually(
    registry,
    (r) => r['connected'] === false && Date.now() - Date.parse(String(r['lastSync'])) > ms,
    ms + 15_000,
  );
}

/** Resolves once the registry has been read in full (a list poll) after this call: the metric counts them. */
export async function afterListPoll(api: ApiCall): Promise<void> {
  const polls = async () =>
    sample(parsePrometheus((await api('GET', '/metrics')).text), 'aqueduct_registry_events_total', { type: 'list' }) ??
    0;
  const before = await polls();
  await eventually(polls, (n) => n > before, 10_000);
}

/** Registry messages Aqueduct refused as invalid so far (its validation-failure metric). */
export async function registryValidationFailures(api: ApiCall): Promise<number> {
  const text = (await api('GET', '/metrics')).text;
  return sample(parsePrometheus(text), 'aqueduct_validation_failures_total', { source: 'registry' }) ?? 0;
}
