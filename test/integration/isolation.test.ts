// One bad object hurts only itself, against a real HAProxy: an object HAProxy
// refuses is set aside with HAProxy's words mapped to its file, its last good
// version keeps serving, and every other change keeps applying, from the
// API and from files, at startup too. A name declared twice serves neither
// copy, consistently with what the API reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { obj } from '../helpers/api.js';
import { apiClient } from '../helpers/api.js';
import { apiUp, startAqueductProcess } from '../helpers/aqueduct.js';
import { haproxyServerPorts, startServingMyapp } from '../helpers/edge.js';
import { staticBackend, type JsonObject } from '../helpers/fixtures.js';
import { backendOf, scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

const status = (r: { body: unknown }) => obj(r as never)['status'] as JsonObject;

describe('fault isolation', () => {
  it('sets aside an object HAProxy refuses and keeps applying every other change, from files and the API', async () => {
    const s = await scenario();
    const aq = await startServingMyapp(s);
    const api = apiClient(aq.api);
    try {
      await s.write(aq.manifests, 'bad.yaml', staticBackend('bad', [1], { natives: ['frobnicate'] }));
      // A later edit of another object is served although bad.yaml is still there.
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({}, ['live-2']));
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-2',
        15_000,
      );
      const bad = await eventually(
        () => api('GET', '/backends/bad'),
        (r) => status(r)['state'] === 'invalid',
      );
      assert.equal(status(bad)['serving'], 'none');
      assert.match(String(status(bad)['lastError']), /bad\.yaml.*frobnicate/);
      // An unrelated write is not blamed for it.
      const put = await api('PUT', '/backends/other?wait=applied', backendOf(s, 'other', ['extra-1'])['spec']);
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(await haproxyServerPorts(aq.statsSocket, 'other'), [s.echoes.get('extra-1')?.port]);
      // Fixing it serves it.
      await s.write(aq.manifests, 'bad.yaml', staticBackend('bad', [s.echoes.get('extra-2')?.port ?? 0]));
      await eventually(
        async () => status(await api('GET', '/backends/bad'))['state'],
        (st) => st === 'applied',
        15_000,
      );
      assert.deepEqual(await haproxyServerPorts(aq.statsSocket, 'bad'), [s.echoes.get('extra-2')?.port]);
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('serves everything valid at startup when one file holds an object HAProxy refuses', async () => {
    const s = await scenario();
    const aq = await startAqueductProcess({ args: ['--resyncInterval', '0'] });
    try {
      await s.write(aq.manifests, 'app.yaml', ...s.myapp());
      await s.write(aq.manifests, 'bad.yaml', staticBackend('bad', [1], { natives: ['frobnicate'] }));
      await apiUp(aq);
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
        15_000,
      );
      assert.equal(await serverOf(s.port, 'staged.myapp.com'), 'staged-1');
      const overview = obj(await apiClient(aq.api)('GET', '/status'));
      assert.match(JSON.stringify(overview), /HAProxy refuses it/);
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('serves neither copy of a name declared in two files, keeps the last good one, and says so consistently', async () => {
    const s = await scenario();
    const aq = await startServingMyapp(s);
    const api = apiClient(aq.api);
    try {
      // HAProxy serves before the loop records the apply: wait for the record.
      await eventually(
        async () => status(await api('GET', '/backends/live'))['state'],
        (st) => st === 'applied',
      );
      await s.write(aq.manifests, 'zz-copy.yaml', backendOf(s, 'live', ['extra-3']));
      const live = await eventually(
        () => api('GET', '/backends/live'),
        (r) => status(r)['state'] === 'invalid',
      );
      assert.equal(status(live)['serving'], 'previous', JSON.stringify(status(live)));
      assert.match(String(status(live)['lastError']), /also defined in/);
      // What the API says is what HAProxy does: the last good members, not the later file's.
      assert.deepEqual(await haproxyServerPorts(aq.statsSocket), [s.echoes.get('live-1')?.port]);
      assert.equal(await serverOf(s.port), 'live-1');
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});
