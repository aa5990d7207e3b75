// Dynamic backends against the real Thalassa (the npm package on a real
// redis-server): registrations become HAProxy servers without a reload,
// deregistration and TTL expiry drain them away, check-ins cause no work, a
// version switch moves traffic, and a Thalassa outage removes nothing.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { isApply, type LogLine, type RunningAqueduct } from '../helpers/aqueduct.js';
import { haproxyServerPorts, startWithRegistry } from '../helpers/edge.js';
import { appliesSince, lastApplyId, obj, type ApiCall } from '../helpers/api.js';
import type { JsonObject } from '../helpers/fixtures.js';
import { afterListPoll, outageLongerThan, registryValidationFailures } from '../helpers/registry.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { startRedis, thalassaServer, type Redis, type Thalassa } from '../helpers/thalassa.js';
import { eventually, serverOf } from '../helpers/wait.js';

const isReload = (l: LogLine) => isApply('reload')(l);

describe('dynamic backends from a real Thalassa', () => {
  let s: Scenario;
  let redis: Redis;
  let thalassa: Thalassa;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const port = (name: string) => s.echoes.get(name)?.port as number;
  const memberPorts = async (backend = 'live') =>
    ((obj(await api('GET', `/backends/${backend}`))['members'] as JsonObject[]) ?? []).map((m) => m['port']).sort();
  const haproxyPorts = () => haproxyServerPorts(aq.statsSocket);

  before(async () => {
    s = await scenario();
    redis = await startRedis();
    thalassa = await thalassaServer(redis);
    await thalassa.start();
    ({ aq, api } = await startWithRegistry(
      s,
      {
        AQUEDUCT_REGISTRY: 'thalassa',
        AQUEDUCT_THALASSA_HOST: '127.0.0.1',
        AQUEDUCT_THALASSA_PORT: String(thalassa.port),
        AQUEDUCT_THALASSA_API_PORT: String(thalassa.apiPort),
        AQUEDUCT_REGISTRY_POLL_INTERVAL: '1000',
        AQUEDUCT_REGISTRY_GRACE: '3000',
      },
      ['--label', 'test-edge'],
    ));
  });

  // Every test starts from the same state: myapp 1.0.0 on live-1 registered and served, nothing else.
  beforeEach(async () => {
    const listed = (await thalassa.get('/registrations/myapp')) as JsonObject[];
    for (const r of listed)
      if (r['version'] !== '1.0.0' || r['port'] !== port('live-1'))
        await thalassa.deregister('myapp', String(r['version']), Number(r['port']));
    await thalassa.register('myapp', '1.0.0', port('live-1'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 1 && p[0] === port('live-1'),
      15_000,
    );
    await aq.quiet(300);
  });

  after(async () => {
    assert.equal(await aq.stop(), 0);
    await thalassa.stop();
    await redis.stop();
    await s.close();
  });

  it('registers itself as thalassa-aqueduct with its label', async () => {
    const list = await eventually(
      async () => (await thalassa.get('/registrations/thalassa-aqueduct')) as JsonObject[],
      (l) => l.length === 1,
    );
    const me = list[0] as JsonObject;
    assert.equal(me['port'], Number(new URL(aq.api).port));
    assert.equal((me['meta'] as JsonObject)['label'], 'test-edge');
  });

  it('serves a registered instance without a reload, and traffic reaches it', async () => {
    const reloadsBefore = aq.logs.filter(isReload).length;
    assert.deepEqual(await memberPorts(), [port('live-1')]);
    const member = (obj(await api('GET', '/backends/live'))['members'] as JsonObject[])[0] as JsonObject;
    assert.equal(member['id'], `/myapp/1.0.0/127.0.0.1/${port('live-1')}`);
    assert.equal(typeof member['lastKnown'], 'number');
    assert.equal(
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
      ),
      'live-1',
    );
    await thalassa.register('myapp', '1.0.0', port('live-2'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.length === 2,
    );
    assert.equal(aq.logs.filter(isReload).length, reloadsBefore, 'member changes took no reload');
  });

  it('does no work for repeated check-ins', async () => {
    await aq.quiet(300);
    const mark = await lastApplyId(api);
    for (let i = 0; i < 5; i++) {
      await thalassa.register('myapp', '1.0.0', port('live-1'));
      await new Promise((r) => setTimeout(r, 200));
    }
    await afterListPoll(api); // a list poll too: it finds nothing new either
    assert.deepEqual(await appliesSince(api, mark), []);
  });

  it('drains and removes a deregistered instance', async () => {
    await thalassa.register('myapp', '1.0.0', port('live-2'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.includes(port('live-2')),
    );
    await thalassa.deregister('myapp', '1.0.0', port('live-2'));
    await eventually(
      () => haproxyPorts(),
      (p) => !p.includes(port('live-2')),
      10_000,
    );
    assert.deepEqual(await memberPorts(), [port('live-1')]);
  });

  it('removes an instance whose registration expired', async () => {
    await thalassa.register('myapp', '1.0.0', port('extra-3'), { secondsToExpire: 1 });
    await eventually(
      () => haproxyPorts(),
      (p) => p.includes(port('extra-3')),
    );
    await eventually(
      () => memberPorts(),
      (p) => !p.includes(port('extra-3')),
      10_000,
    );
    await eventually(
      () => haproxyPorts(),
      (p) => !p.includes(port('extra-3')),
      10_000,
    );
  });

  it('switches a backend to another version with POST, as the original README shows', async () => {
    await thalassa.register('myapp', '1.1.0', port('staged-1'));
    const r = await api('POST', '/backends/live?wait=applied', { version: '1.1.0' });
    assert.equal(r.status, 200, r.text);
    assert.equal(
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'staged-1',
      ),
      'staged-1',
    );
    assert.deepEqual(await memberPorts(), [port('staged-1')]);
    const back = await api('POST', '/backends/live?wait=applied', { name: 'myapp', version: '1.0.0' });
    assert.equal(back.status, 200);
    assert.equal(
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
      ),
      'live-1',
    );
  });

  it('keeps every member while Thalassa is down, then picks up what changed meanwhile', async () => {
    await thalassa.stop();
    // Longer than the grace period (3 s) and several polls: nothing may leave.
    await outageLongerThan(api, 4000);
    assert.deepEqual(await haproxyPorts(), [port('live-1')]);
    assert.equal(await serverOf(s.port), 'live-1');
    const status = obj(await api('GET', '/status'))['registry'] as JsonObject;
    assert.equal(status['connected'], false);
    await thalassa.start();
    // Registered before Aqueduct reconnects: no event reaches it, the list on reconnect does.
    await thalassa.register('myapp', '1.0.0', port('extra-1'));
    await eventually(
      () => haproxyPorts(),
      (p) => p.includes(port('extra-1')),
      40_000,
    );
    assert.deepEqual(await memberPorts(), [port('live-1'), port('extra-1')].sort());
    await eventually(
      async () => (obj(await api('GET', '/status'))['registry'] as JsonObject)['connected'],
      (c) => c === true,
      40_000,
    );
  });

  it('ignores registry messages that could inject HAProxy syntax', async () => {
    const invalid = () => registryValidationFailures(api);
    const before = await invalid();
    const res = await registryRequest(
      'POST',
      `${thalassa.api}/registrations/myapp/1.0.0/bad%20host%0Alisten%20x/80`,
      '{}',
    );
    assert.ok(res.status < 500);
    await eventually(invalid, (n) => n > before, 10_000);
    const config = (await api('GET', '/haproxy/config')).text;
    assert.ok(!config.includes('listen x'));
    assert.deepEqual(await memberPorts(), [port('live-1')]);
  });
});
