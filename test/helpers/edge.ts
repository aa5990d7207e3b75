// The common start of the loop tests: the README's myapp frontend on a
// backend `live`, served through the API, and what HAProxy has in a backend.
import assert from 'node:assert/strict';
import { sendCommand } from '../../src/haproxy/socket-client.js';
import { apiUp, startAqueductProcess, type AqueductOptions, type RunningAqueduct } from './aqueduct.js';
import { apiClient, type ApiCall } from './api.js';
import type { EchoServer } from './haproxy.js';
import { scenario, type Scenario } from './scenario.js';
import { freePort } from './haproxy.js';
import { embeddedRegistry, registerIn, type EmbeddedRegistry } from './registry.js';
import { eventually, serverOf } from './wait.js';

/** PUTs backend `live` (as given) and frontend `myapp` on the scenario's port, and waits until HAProxy serves them. */
export async function serveMyapp(api: ApiCall, s: Scenario, live: object): Promise<void> {
  const backend = await api('PUT', '/backends/live', live);
  assert.equal(backend.status, 200, backend.text);
  const fe = await api('PUT', '/frontends/myapp?wait=applied', { bind: `127.0.0.1:${s.port}`, backend: 'live' });
  assert.equal(fe.status, 200, fe.text);
}

/** An Aqueduct following a registry (env names it), once its event stream is connected, serving myapp on myapp@1.0.0. */
export async function startWithRegistry(
  s: Scenario,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ aq: RunningAqueduct; api: ApiCall }> {
  const aq = await startAqueductProcess({ args: ['--minReloadInterval', '100', ...args], env });
  const api = apiClient(aq.api);
  await aq.waitFor((l) => l.msg === 'registry events connected', 15_000, 0);
  await serveMyapp(api, s, { type: 'dynamic', name: 'myapp', version: '1.0.0' });
  return { aq, api };
}

/** Ports of the servers HAProxy has in a backend now (`show servers state`), sorted. */
export async function haproxyServerPorts(statsSocket: string, backend = 'live'): Promise<number[]> {
  return (await sendCommand(statsSocket, 'show servers state'))
    .split('\n')
    .filter((l) => l.split(' ')[1] === backend)
    .map((l) => Number(l.split(' ')[18]))
    .sort((a, b) => a - b);
}

/** Ports of the servers HAProxy sends traffic to in a backend (weight above 0 and not in maintenance). */
export async function haproxyServingPorts(statsSocket: string, backend = 'live'): Promise<number[]> {
  return (await sendCommand(statsSocket, 'show servers state'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[1] === backend && Number(f[7]) > 0 && (Number(f[6]) & 0x21) === 0)
    .map((f) => Number(f[18]))
    .sort((a, b) => a - b);
}

/** Makes a failing echo server healthy and waits until it is all HAProxy sends backend live's traffic to. */
export async function healAndServe(statsSocket: string, sick: EchoServer): Promise<void> {
  sick.behave({});
  await eventually(
    () => haproxyServerPorts(statsSocket),
    (p) => p.join() === String(sick.port),
    15_000,
  );
}

/**
 * A real Aqueduct whose API is up, serving the scenario's myapp set written
 * as a file (app.yaml in `manifests`, its own directory unless given).
 */
export async function startServingMyapp(
  s: Scenario,
  opts: AqueductOptions = {},
  manifests?: string,
): Promise<RunningAqueduct> {
  const aq = await startAqueductProcess(opts);
  try {
    await apiUp(aq);
    await s.write(manifests ?? aq.manifests, 'app.yaml', ...s.myapp());
    await eventually(
      () => serverOf(s.port),
      (x) => x === 'live-1',
      15_000,
    );
    return aq;
  } catch (err) {
    await aq.stop(); // never leave a process behind a failed start
    throw err;
  }
}

/**
 * The dashboard tests' start: the scenario, the embedded registry with
 * myapp@1.0.0 on live-1 and myapp@1.1.0 on staged-1, an Aqueduct on it with
 * this stats interval, serving live-1.
 */
export async function startRegistryScenario(statsMs: number): Promise<{
  s: Scenario;
  registry: EmbeddedRegistry;
  aq: RunningAqueduct;
  api: ApiCall;
}> {
  const s = await scenario();
  const registry = embeddedRegistry(await freePort());
  await registry.start();
  const env = { AQUEDUCT_REGISTRY: 'socketio', AQUEDUCT_THALASSA_API_PORT: new URL(registry.url).port };
  const { aq, api } = await startWithRegistry(s, env, ['--statsInterval', String(statsMs)]);
  const port = (name: string) => s.echoes.get(name)?.port as number;
  await registerIn(registry, 'myapp', '1.0.0', port('live-1'));
  await registerIn(registry, 'myapp', '1.1.0', port('staged-1'));
  await eventually(
    () => serverOf(s.port).catch(() => ''),
    (x) => x === 'live-1',
    15_000,
  );
  return { s, registry, aq, api };
}
