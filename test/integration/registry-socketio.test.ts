// The socket.io registry source against the embedded registry
// (`aqueduct registry`, a real process): the same behaviour as with Thalassa,
// and a registry restarted with an empty store keeps members for the grace
// period only.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { isApply, type RunningAqueduct } from '../helpers/aqueduct.js';
import { haproxyServerPorts, startWithRegistry } from '../helpers/edge.js';
import { appliesSince, lastApplyId, obj, type ApiCall } from '../helpers/api.js';
import { tempDir, type JsonObject } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import {
  afterListPoll,
  embeddedRegistry,
  outageLongerThan,
  registerIn,
  type EmbeddedRegistry,
} from '../helpers/registry.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

describe('dynamic backends from the embedded registry over socket.io', () => {
  let s: Scenario;
  let registry: EmbeddedRegistry;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const port = (name: string) => s.echoes.get(name)?.port as number;
  const register = (p: number, ttl = 60) => registerIn(registry, 'myapp', '1.0.0', p, ttl);
  const haproxyPorts = () => haproxyServerPorts(aq.statsSocket);

  before(async () => {
    s = await scenario();
    registry = embeddedRegistry(await freePort());
    await registry.start();
    ({ aq, api } = await startWithRegistry(s, {
      AQUEDUCT_REGISTRY: 'socketio',
      AQUEDUCT_THALASSA_API_PORT: new URL(registry.url).port,
      AQUEDUCT_REGISTRY_POLL_INTERVAL: '500',
      AQUEDUCT_REGISTRY_GRACE: '4000',
    }));
  });

  // Every test starts from the same state: myapp 1.0.0 on live-1 registered and served, nothing else.
  beforeEach(async () => {
    const listed = JSON.parse(
      (await registryRequest('GET', `${registry.url}/registrations/myapp`)).body,
    ) as JsonObject[];
    for (const r of listed.filter((x) => x['port'] !== port('live-1')))
      await registryRequest('DELETE', `${registry.url}/registrations${String(r['id'])}`);
    await register(port('live-1'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 1 && p[0] === port('live-1'),
      15_000,
    );
  });

  after(async () => {
    assert.equal(await aq.stop(), 0);
    await registry.stop();
    await s.close();
  });

  it('serves registered instances without a reload, ignores check-ins, and removes deregistered and expired ones', async () => {
    const reloads = () => aq.logs.filter(isApply('reload')).length;
    const before = reloads();
    await register(port('live-1'));
    await register(port('live-2'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 2,
    );
    assert.equal(
      await eventually(
        () => serverOf(s.port),
        (x) => x.startsWith('live-'),
      ).then((x) => x.slice(0, 5)),
      'live-',
    );
    await aq.quiet(300);
    const mark = await lastApplyId(api);
    for (let i = 0; i < 4; i++) await register(port('live-1'));
    await afterListPoll(api); // a list poll too: it finds nothing new either
    assert.deepEqual(await appliesSince(api, mark), [], 'check-ins are no work');
    await registryRequest('DELETE', `${registry.url}/registrations/myapp/1.0.0/127.0.0.1/${port('live-2')}`);
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 1 && p[0] === port('live-1'),
      10_000,
    );
    await register(port('extra-3'), 1);
    await eventually(
      () => haproxyPorts(),
      (p) => p.includes(port('extra-3')),
    );
    await eventually(
      () => haproxyPorts(),
      (p) => !p.includes(port('extra-3')),
      10_000,
    );
    assert.equal(reloads(), before, 'no reload for any member change');
    const members = obj(await api('GET', '/backends/live/members')) as unknown as JsonObject[];
    assert.deepEqual(
      members.map((m) => m['port']),
      [port('live-1')],
    );
  });

  it('keeps members while the registry is down, and for the grace period after it restarts empty', async () => {
    await registry.stop();
    await outageLongerThan(api, 4500); // past the grace period: the registry is unreachable, not empty
    assert.deepEqual(await haproxyPorts(), [port('live-1')]);
    assert.equal(await serverOf(s.port), 'live-1');
    await registry.start(); // in memory: it comes back empty
    await register(port('extra-1'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.includes(port('extra-1')),
      15_000,
    );
    assert.ok((await haproxyPorts()).includes(port('live-1')), 'not wiped at once by an empty registry');
    // live-1 never checks in again: it leaves once the grace period is over.
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 1 && p[0] === port('extra-1'),
      15_000,
    );
    assert.equal(await serverOf(s.port), 'extra-1');
  });

  it('keeps registrations across a restart with --persist', async () => {
    const file = path.join(await tempDir('aqueduct-registry-'), 'registrations.json');
    const persisted = embeddedRegistry(await freePort(), file);
    await persisted.start();
    try {
      const r = await registryRequest(
        'POST',
        `${persisted.url}/registrations/svc/2.0.0/127.0.0.1/4444`,
        '{"secondsToExpire": 60}',
      );
      assert.equal(r.status, 200);
      await persisted.stop();
      await persisted.start();
      const list = JSON.parse(
        (await registryRequest('GET', `${persisted.url}/registrations/svc/2.0.0`)).body,
      ) as JsonObject[];
      assert.deepEqual(
        list.map((x) => x['id']),
        ['/svc/2.0.0/127.0.0.1/4444'],
      );
    } finally {
      await persisted.stop();
    }
  });
});
