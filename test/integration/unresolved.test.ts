// A member HAProxy cannot resolve is not "applied": the status names it with
// HAProxy's reason, and ?wait=applied says held instead of served.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, obj } from '../helpers/api.js';
import { haproxyServingPorts, startServingMyapp } from '../helpers/edge.js';
import type { JsonObject } from '../helpers/fixtures.js';
import { scenario } from '../helpers/scenario.js';

describe('members HAProxy cannot resolve', () => {
  it('says unresolved in the status and answers ?wait=applied with apply_held; the resolvable members serve', async () => {
    const s = await scenario();
    const aq = await startServingMyapp(s);
    const api = apiClient(aq.api);
    try {
      const members = [
        { host: 'no-such-host.invalid', port: 80 },
        { host: '127.0.0.1', port: s.echoes.get('live-2')?.port ?? 0 },
      ];
      const r = await api('PUT', '/backends/pool?wait=applied', { type: 'static', members });
      assert.equal(r.status, 409, r.text);
      assert.equal(obj(r)['code'], 'apply_held');
      assert.match(String(obj(r)['message']), /unresolved: HAProxy cannot resolve no-such-host\.invalid:80/);
      const status = obj(await api('GET', '/backends/pool'))['status'] as JsonObject;
      assert.equal(status['state'], 'pending');
      assert.deepEqual(status['unresolved'], ['no-such-host.invalid:80']);
      assert.deepEqual(await haproxyServingPorts(aq.statsSocket, 'pool'), [s.echoes.get('live-2')?.port]);
      const fixed = await api('PUT', '/backends/pool?wait=applied', { type: 'static', members: [members[1]] });
      assert.equal(fixed.status, 200, fixed.text);
      const after = obj(await api('GET', '/backends/pool'))['status'] as JsonObject;
      assert.equal(after['state'], 'applied');
      assert.equal(after['unresolved'], undefined);
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});
