// Zero-drop deploys through the API under real load: disjoint member swaps
// and version switches lose no request and need no reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import type { JsonObject } from '../helpers/fixtures.js';
import { startEchoServer } from '../helpers/haproxy.js';
import { eventually } from '../helpers/wait.js';
import { haproxyServerPorts, healAndServe, serveMyapp } from '../helpers/edge.js';
import { assertNoLoss, startLoad } from '../helpers/load.js';
import { scenario, type Scenario } from '../helpers/scenario.js';

const SWAPS = 20;

const workerPid = async (aq: RunningAqueduct): Promise<number | undefined> =>
  (await showProcRetrying(aq.masterSocket)).workers[0];

describe('make before break: static member swaps under load', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const ports = (names: string[]) => names.map((n) => s.echoes.get(n)?.port as number);
  const members = (names: string[]) => ports(names).map((port) => ({ host: '127.0.0.1', port }));

  before(async () => {
    s = await scenario();
    aq = await startAqueductProcess({ args: ['--drainTimeout', '2000'] });
    api = apiClient(aq.api);
    await apiUp(aq);
    await serveMyapp(api, s, { type: 'static', members: members(['live-1', 'live-2']) });
  });

  after(async () => {
    await aq.stop();
    await s.close();
  });

  it(`swaps a backend's members for a disjoint set ${SWAPS} times with no failed request and no reload`, async () => {
    const pid = await workerPid(aq);
    const load = startLoad(s.port, { keepAlive: 8, fresh: 4 });
    const sets = [
      ['extra-1', 'extra-2'],
      ['live-1', 'live-2'],
    ];
    for (let i = 0; i < SWAPS; i++) {
      const set = sets[i % 2] as string[];
      const r = await api('PUT', '/backends/live?wait=applied', { type: 'static', members: members(set) });
      assert.equal(r.status, 200, r.text);
      const served = await haproxyServerPorts(aq.statsSocket);
      for (const p of ports(set)) assert.ok(served.includes(p), `HAProxy serves ${p} once the PUT is applied`);
    }
    const result = await load.stop();
    assertNoLoss(result, 'static swaps');
    const reloads = aq.logs.filter((l) => l.plan === 'reload').map((l) => JSON.stringify(l.reasons));
    assert.equal(
      await workerPid(aq),
      pid,
      `no reload: the worker is the same process; reloads: ${reloads.slice(1).join(' ')}`,
    );
  });

  it('holds a health-checked swap to members that all fail their check: no failed request, held, and completes once they heal', async () => {
    const sick = await startEchoServer('sick', 0, { healthStatus: 503 });
    const health = { uri: '/health', interval: 200 };
    try {
      const first = await api('PUT', '/backends/live?wait=applied', {
        type: 'static',
        health,
        members: members(['live-1']),
      });
      assert.equal(first.status, 200, first.text);
      const load = startLoad(s.port, { keepAlive: 4, fresh: 2 });
      const swap = { type: 'static', health, members: [{ host: '127.0.0.1', port: sick.port }] };
      assert.equal((await api('PUT', '/backends/live', swap)).status, 200);
      const held = await eventually(
        async () => (obj(await api('GET', '/backends/live'))['status'] as JsonObject)['held'],
        (h) => typeof h === 'string' && /to pass its health check/.test(h),
      );
      assert.match(String(held), /the current servers keep serving/);
      await eventually(
        async () => load.now().ok,
        (n) => n > 600,
        20_000,
      );
      assert.equal(load.now().servers.get('sick') ?? 0, 0, 'the failing members took no request');
      await healAndServe(aq.statsSocket, sick);
      const result = await load.stop();
      assertNoLoss(result, 'a health-gated static swap');
      assert.ok((result.servers.get('sick') ?? 0) > 0, 'the healed members serve');
      assert.equal((obj(await api('GET', '/backends/live'))['status'] as JsonObject)['held'], null);
    } finally {
      await sick.close();
    }
  });
});
