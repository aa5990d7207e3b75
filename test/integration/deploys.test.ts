// Zero-drop deploys through the API under real load: disjoint member swaps
// and version switches lose no request and need no reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient, type ApiCall } from '../helpers/api.js';
import { haproxyServerPorts, serveMyapp } from '../helpers/edge.js';
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
});
