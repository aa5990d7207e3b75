// Writes that take a burst, against a real HAProxy: parallel PUTs of
// distinct objects share their haproxy -c (group commit), each answered for
// its own fault only, If-Match still lets exactly one of many racers win,
// and the loop serves the burst.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { type RunningAqueduct } from '../helpers/aqueduct.js';
import { haproxyServerPorts, startServingMyapp } from '../helpers/edge.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

const members = (s: Scenario, name: string) => [{ host: '127.0.0.1', port: s.echoes.get(name)?.port ?? 0 }];

describe('a burst of API writes', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;
  before(async () => {
    s = await scenario();
    aq = await startServingMyapp(s);
    api = apiClient(aq.api);
  });
  after(async () => {
    await aq.stop();
    await s.close();
  });

  it('answers 100 parallel PUTs of distinct backends, and HAProxy serves all of them', async () => {
    const puts = Array.from({ length: 100 }, (_, i) =>
      api('PUT', `/backends/burst-${i}`, { type: 'static', members: members(s, 'extra-1') }),
    );
    const answers = await Promise.all(puts);
    assert.deepEqual(
      answers.map((a) => a.status).filter((c) => c !== 200),
      [],
      answers.find((a) => a.status !== 200)?.text,
    );
    await eventually(
      () => haproxyServerPorts(aq.statsSocket, 'burst-99'),
      (ports) => ports.length === 1,
      15_000,
    );
    for (const i of [0, 42, 99])
      assert.deepEqual(await haproxyServerPorts(aq.statsSocket, `burst-${i}`), [s.echoes.get('extra-1')?.port]);
  });

  it('refuses only the write HAProxy refuses in a batch; the others are written', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => ({
      type: 'static',
      members: members(s, 'extra-2'),
      ...(i === 7 && { natives: ['frobnicate'] }),
    }));
    const answers = await Promise.all(bodies.map((b, i) => api('PUT', `/backends/mixed-${i}`, b)));
    assert.equal(answers[7]?.status, 400, answers[7]?.text);
    assert.equal(obj(answers[7] as never)['code'], 'haproxy_rejected');
    assert.match(String(obj(answers[7] as never)['message']), /frobnicate/);
    const others = answers.filter((_, i) => i !== 7).map((a) => a.status);
    assert.deepEqual([...new Set(others)], [200]);
    assert.equal((await api('GET', '/backends/mixed-7')).status, 404, 'the refused write left nothing behind');
  });

  it('lets exactly one of 100 If-Match racers on one object win', async () => {
    const first = await api('PUT', '/backends/raced', { type: 'static', members: members(s, 'extra-1') });
    assert.equal(first.status, 200, first.text);
    const etag = first.headers.get('etag') ?? '';
    const racers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        api(
          'PUT',
          '/backends/raced',
          { type: 'static', members: members(s, 'extra-1'), natives: [`http-response set-header X-Racer ${i}`] },
          { 'if-match': etag },
        ),
      ),
    );
    const codes = racers.map((r) => r.status);
    assert.equal(codes.filter((c) => c === 200).length, 1, JSON.stringify(codes));
    assert.equal(codes.filter((c) => c === 412).length, 99);
  });
});
