// Deploys of registry versions against the real Thalassa (the npm package on
// a real redis-server) with real traffic through a real HAProxy: the
// README's POST version switch under load, weighted versions, the
// health-gated switch, and progressive rollouts that finish or roll back.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { haproxyServerPorts, haproxyServingPorts, healAndServe, startWithRegistry } from '../helpers/edge.js';
import type { JsonObject } from '../helpers/fixtures.js';
import { startEchoServer, type EchoServer } from '../helpers/haproxy.js';
import { assertNoLoss, startLoad, type Load, type LoadResult } from '../helpers/load.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { startRedis, thalassaServer, type Redis, type Thalassa } from '../helpers/thalassa.js';
import { eventually } from '../helpers/wait.js';

const V1 = ['live-1', 'live-2'];
const V2 = ['extra-1', 'extra-2', 'extra-3'];

/** Runs the load until `n` requests were answered, then stops it. */
async function loadOf(load: Load, n: number): Promise<LoadResult> {
  await eventually(
    async () => load.now().ok + load.now().failed,
    (total) => total >= n,
    60_000,
  );
  return load.stop();
}

const share = (r: LoadResult, names: readonly string[]): number => {
  const total = [...r.servers.values()].reduce((a, b) => a + b, 0);
  return names.reduce((sum, n) => sum + (r.servers.get(n) ?? 0), 0) / total;
};

describe('deploying registry versions under load (real Thalassa)', () => {
  let s: Scenario;
  let redis: Redis;
  let thalassa: Thalassa;
  let aq: RunningAqueduct;
  let api: ApiCall;
  let sick: EchoServer;
  const port = (name: string) => (name === 'sick' ? sick.port : (s.echoes.get(name)?.port as number));
  const ports = (names: readonly string[]) => names.map(port).sort((a, b) => a - b);
  const env = () => ({
    AQUEDUCT_REGISTRY: 'thalassa',
    AQUEDUCT_THALASSA_HOST: '127.0.0.1',
    AQUEDUCT_THALASSA_PORT: String(thalassa.port),
    AQUEDUCT_THALASSA_API_PORT: String(thalassa.apiPort),
    AQUEDUCT_REGISTRY_POLL_INTERVAL: '1000',
  });
  const workerPid = async () => (await showProcRetrying(aq.masterSocket)).workers[0];
  const live = async (spec: JsonObject = {}) => {
    const r = await api('PUT', '/backends/live?wait=applied', {
      type: 'dynamic',
      name: 'myapp',
      version: '1.0.0',
      ...spec,
    });
    assert.equal(r.status, 200, r.text);
    await eventually(
      () => haproxyServerPorts(aq.statsSocket),
      (p) => p.join() === ports(V1).join(),
      10_000,
    );
  };
  /**
   * The API's view of backend live (its versions, or its rollout's position,
   * and the members registered under them) equals what HAProxy sends traffic to.
   */
  const agreesNow = async (): Promise<boolean> => {
    const b = obj(await api('GET', '/backends/live'));
    const position = obj(await api('GET', '/backends/live/rollout'))['position'] as JsonObject | null | undefined;
    const split = (b['versions'] as { version: string; weight: number }[] | undefined) ?? [
      { version: String(b['version']), weight: 100 },
    ];
    const moving = position?.['state'] === 'progressing';
    const versions = moving
      ? [String(position?.['from']), String(position?.['to'])]
      : split.filter((v) => v.weight > 0).map((v) => v.version);
    const members = (b['members'] as { version: string; port: number }[]).filter((m) => versions.includes(m.version));
    const expected = members.map((m) => m.port).sort((x, y) => x - y);
    return expected.join() === (await haproxyServingPorts(aq.statsSocket)).join();
  };
  const agrees = async () => assert.ok(await agreesNow(), 'the API and show servers state agree');
  const rollout = async () => obj(await api('GET', '/backends/live/rollout'))['position'] as JsonObject | null;

  before(async () => {
    s = await scenario();
    sick = await startEchoServer('sick', 0, { healthStatus: 503 });
    redis = await startRedis();
    thalassa = await thalassaServer(redis);
    await thalassa.start();
    for (const n of V1) await thalassa.register('myapp', '1.0.0', port(n));
    for (const n of V2) await thalassa.register('myapp', '2.0.0', port(n));
    await thalassa.register('myapp', '3.0.0', port('staged-1'));
    await thalassa.register('myapp', '4.0.0', sick.port);
    ({ aq, api } = await startWithRegistry(s, env(), ['--healthGateTimeout', '2000', '--drainTimeout', '2000']));
  });

  after(async () => {
    await aq.stop();
    await thalassa.stop();
    await redis.stop();
    await sick.close();
    await s.close();
  });

  it('switches between two registered versions with POST 20 times under load: no failed request, no reload', async () => {
    await live();
    const pid = await workerPid();
    const load = startLoad(s.port, { keepAlive: 8, fresh: 4 });
    for (let i = 0; i < 20; i++) {
      const version = i % 2 === 0 ? '2.0.0' : '1.0.0';
      const r = await api('POST', '/backends/live?wait=applied', { version });
      assert.equal(r.status, 200, r.text);
      const served = await haproxyServerPorts(aq.statsSocket);
      for (const p of ports(version === '2.0.0' ? V2 : V1)) assert.ok(served.includes(p), `${version} is served`);
    }
    assertNoLoss(await load.stop(), 'POST version switches');
    assert.equal(await workerPid(), pid, 'no reload');
  });

  it('splits traffic 80/20 between versions of 2 and 3 members, and changes weights without a reload', async () => {
    await live();
    const pid = await workerPid();
    const versions = [
      { version: '1.0.0', weight: 80 },
      { version: '2.0.0', weight: 20 },
    ];
    const r = await api('POST', '/backends/live?wait=applied', { versions });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(obj(r)['versions'], versions);
    assert.equal(obj(r)['version'], '1.0.0', 'version names the heaviest');
    const result = await loadOf(startLoad(s.port, { keepAlive: 4, fresh: 0 }), 1600);
    const v1 = share(result, V1);
    assert.ok(Math.abs(v1 - 0.8) <= 0.03, `1.0.0 received ${(v1 * 100).toFixed(1)}% (want 80 ± 3)`);
    const flipped = await api('POST', '/backends/live?wait=applied', {
      versions: [
        { version: '1.0.0', weight: 20 },
        { version: '2.0.0', weight: 80 },
      ],
    });
    assert.equal(flipped.status, 200, flipped.text);
    const after = await loadOf(startLoad(s.port, { keepAlive: 4, fresh: 0 }), 1600);
    assert.ok(Math.abs(share(after, V2) - 0.8) <= 0.03, `2.0.0 received ${share(after, V2)}`);
    assert.equal(await workerPid(), pid, 'weights changed through the runtime API');
  });

  it('keeps the old version serving while the new one fails its health check, and switches once it passes', async () => {
    await live({ health: { uri: '/health', interval: 200 } });
    sick.behave({ healthStatus: 503 });
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    // ?wait=applied waits for the gate: past its timeout the switch is answered as held.
    const r = await api('POST', '/backends/live?wait=applied', { version: '4.0.0' });
    assert.equal(r.status, 409, r.text);
    assert.equal(obj(r)['code'], 'apply_held');
    assert.match(String(obj(r)['message']), /waiting for one of .* to pass its health check \(past its timeout\)/);
    assert.match(String((obj(await api('GET', '/backends/live'))['status'] as JsonObject)['held']), /health check/);
    const gate = await eventually(
      async () =>
        (obj(await api('GET', '/backends/live'))['status'] as JsonObject)['healthGate'] as JsonObject | undefined,
      (g) => g?.['timedOut'] === true,
      10_000,
    );
    assert.deepEqual(gate?.['waitingFor'], [`live_127.0.0.1:${sick.port}`]);
    const ledger = obj(await api('GET', '/applies'));
    assert.match(JSON.stringify(ledger), /no new server passed its health check/);
    const held = load.now();
    assert.equal(held.servers.get('sick') ?? 0, 0, 'the unhealthy version took no request');
    assert.equal(held.failed, 0);
    await healAndServe(aq.statsSocket, sick);
    const result = await load.stop();
    assert.ok((result.servers.get('sick') ?? 0) > 0, 'the new version serves once healthy');
    assertNoLoss(result, 'health-gated switch');
    assert.equal((obj(await api('GET', '/backends/live'))['status'] as JsonObject)['healthGate'], undefined);
  });

  it('holds a switch to a version nobody registered: no failed request, the status says held, registering completes it', async () => {
    await live();
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    const r = await api('POST', '/backends/live?wait=applied', { version: '5.0.0' });
    assert.equal(r.status, 409, r.text);
    assert.match(
      String(obj(r)['message']),
      /held: no instances of myapp@5\.0\.0; its current 2 server\(s\) keep serving/,
    );
    const status = (obj(await api('GET', '/backends/live'))['status'] as JsonObject) ?? {};
    assert.equal(status['state'], 'pending');
    assert.match(String(status['held']), /no instances of myapp@5\.0\.0/);
    assert.deepEqual(await haproxyServerPorts(aq.statsSocket), ports(V1), 'the current servers keep serving');
    assert.match(
      await (await fetch(`${aq.api}/metrics`)).text(),
      /aqueduct_backend_held\{backend="live",empty="true"\} 1/,
    );
    await eventually(
      async () => load.now().ok,
      (n) => n > 700,
    );
    await thalassa.register('myapp', '5.0.0', port('extra-3'));
    await eventually(
      () => haproxyServerPorts(aq.statsSocket),
      (p) => p.join() === String(port('extra-3')),
      15_000,
    );
    const after = obj(await api('GET', '/backends/live'))['status'] as JsonObject;
    assert.equal(after['held'], null);
    assert.equal(after['state'], 'applied');
    const result = await load.stop();
    assertNoLoss(result, 'a switch to an unregistered version');
    assert.ok((result.servers.get('extra-3') ?? 0) > 0, 'the switch completed once the version registered');
  });

  it('serves a split whose new version has no instances from the others, says so, and adds it once it registers', async () => {
    await live();
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    const versions = [
      { version: '1.0.0', weight: 90 },
      { version: '6.0.0', weight: 10 },
    ];
    const r = await api('POST', '/backends/live?wait=applied', { versions });
    assert.equal(r.status, 409, r.text);
    assert.match(String(obj(r)['message']), /no instances of myapp@6\.0\.0; its share goes to the other versions/);
    assert.deepEqual(await haproxyServerPorts(aq.statsSocket), ports(V1));
    await eventually(
      async () => load.now().ok,
      (n) => n > 700,
    );
    await thalassa.register('myapp', '6.0.0', port('staged-1'));
    await eventually(
      () => haproxyServerPorts(aq.statsSocket),
      (p) => p.includes(port('staged-1')),
      15_000,
    );
    await eventually(
      async () => (obj(await api('GET', '/backends/live'))['status'] as JsonObject)['held'],
      (h) => h === null,
    );
    assertNoLoss(await load.stop(), 'a split with a version that has no instances');
  });

  it('a rollout over a 90/10 split replaces it, and after an abort and a completion the API says what HAProxy serves', async () => {
    await live();
    const split = [
      { version: '1.0.0', weight: 90 },
      { version: '2.0.0', weight: 10 },
    ];
    assert.equal((await api('POST', '/backends/live?wait=applied', { versions: split })).status, 200);
    await agrees();
    const started = await api('POST', '/backends/live/rollout', { to: '3.0.0', steps: [50, 100], stepSeconds: 60 });
    assert.equal(started.status, 200, started.text);
    assert.equal(obj(started)['versions'], undefined, 'the rollout replaces the split, and the object says so');
    await eventually(agreesNow, (ok) => ok, 10_000);
    assert.equal((await api('DELETE', '/backends/live/rollout?wait=applied')).status, 200);
    await eventually(agreesNow, (ok) => ok, 10_000);
    assert.deepEqual(await haproxyServingPorts(aq.statsSocket), ports(V1), 'after the abort: the stable version alone');
    const again = await api('POST', '/backends/live/rollout', {
      to: '3.0.0',
      steps: [100],
      stepSeconds: 1,
      minRequests: 0,
    });
    assert.equal(again.status, 200, again.text);
    await eventually(rollout, (p) => p?.['state'] === 'complete', 20_000);
    await eventually(agreesNow, (ok) => ok, 10_000);
    assert.deepEqual(await haproxyServingPorts(aq.statsSocket), [port('staged-1')]);
  });

  it('rolls back on its own a version that answers 500 to 20% of requests, before it gets more than its first step', async () => {
    await live();
    s.echoes.get('staged-1')?.behave({ failEvery: 5 });
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    await eventually(
      async () => load.now().ok,
      (n) => n > 100,
    );
    const r = await api('POST', '/backends/live/rollout', {
      to: '3.0.0',
      steps: [10, 50, 100],
      stepSeconds: 5,
      maxErrorRate: 0.05,
      minRequests: 30,
    });
    assert.equal(r.status, 200, r.text);
    const position = await eventually(
      rollout,
      (p) => p?.['key'] === '1.0.0>3.0.0@10,50,100' && p['state'] === 'aborted',
      20_000,
    );
    assert.match(String(position?.['reason']), /requests to 3\.0\.0 failed/);
    await eventually(
      () => haproxyServerPorts(aq.statsSocket),
      (p) => !p.includes(port('staged-1')),
      10_000,
    );
    const result = await load.stop();
    const newShare = share(result, ['staged-1']);
    assert.ok(newShare <= 0.1 + 0.03, `3.0.0 received ${(newShare * 100).toFixed(1)}% of requests (first step: 10%)`);
    assert.ok((result.servers.get('staged-1') ?? 0) > 0, 'the new version did receive its first step');
    const text = JSON.stringify(obj(await api('GET', '/applies')));
    assert.match(text, /rolled back/);
    const metrics = await (await fetch(`${aq.api}/metrics`)).text();
    assert.match(metrics, /aqueduct_rollout_events_total\{event="aborted"\} [1-9]/);
    s.echoes.get('staged-1')?.behave({});
  });

  it('rolls a healthy version out to 100%, drains the old one and makes it the backend version', async () => {
    await live();
    const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
    const r = await api('POST', '/backends/live/rollout', {
      to: '2.0.0',
      steps: [25, 100],
      stepSeconds: 1,
      minRequests: 20,
    });
    assert.equal(r.status, 200, r.text);
    await eventually(rollout, (p) => p?.['key'] === '1.0.0>2.0.0@25,100' && p['state'] === 'complete', 20_000);
    const backend = await eventually(
      async () => obj(await api('GET', '/backends/live')),
      (b) => b['version'] === '2.0.0' && b['rollout'] === undefined,
      10_000,
    );
    assert.equal(backend['version'], '2.0.0');
    await eventually(
      () => haproxyServerPorts(aq.statsSocket),
      (p) => p.join() === ports(V2).join(),
      10_000,
    );
    assertNoLoss(await load.stop(), 'healthy rollout');
  });

  it('resumes a rollout at its recorded step after Aqueduct is killed with SIGKILL', async () => {
    await live();
    const r = await api('POST', '/backends/live/rollout', {
      to: '2.0.0',
      steps: [10, 50, 100],
      stepSeconds: 2,
      minRequests: 5,
    });
    assert.equal(r.status, 200, r.text);
    const load = startLoad(s.port, { keepAlive: 2, fresh: 1 });
    // This rollout's step 1: the previous test's finished rollout shows a step 1 too.
    const at = await eventually(
      rollout,
      (p) => p?.['key'] === '1.0.0>2.0.0@10,50,100' && p['state'] === 'progressing' && p['step'] === 1,
      20_000,
    );
    aq.child.kill('SIGKILL');
    await aq.stop();
    aq = await startAqueductProcess({
      dir: aq.dir,
      env: env(),
      args: ['--healthGateTimeout', '2000', '--drainTimeout', '2000'],
    });
    await apiUp(aq);
    api = apiClient(aq.api);
    const resumed = await rollout();
    const persisted = await readFile(path.join(aq.stateDir, 'rollouts.json'), 'utf8').catch(() => 'none');
    assert.ok(Number(resumed?.['step']) >= 1, `resumed at step ${String(resumed?.['step'])}; persisted: ${persisted}`);
    assert.equal(
      resumed?.['stepStartedAt'] !== undefined && Number(resumed['stepStartedAt']) >= Number(at?.['stepStartedAt']),
      true,
    );
    await eventually(rollout, (p) => p?.['state'] === 'complete', 30_000);
    const result = await load.stop();
    assert.ok(result.ok > 100);
  });
});
