// Logs as an operator reads them, from a real Aqueduct and a real HAProxy:
// one access-log line per real request, HAProxy's lines at their own level,
// the ready line, and the pretty format for people.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventually, serverOf } from '../helpers/wait.js';
import { startServingMyapp } from '../helpers/edge.js';
import { getJson } from '../helpers/haproxy.js';
import { scenario, type Scenario } from '../helpers/scenario.js';

describe('logs', () => {
  let s: Scenario;
  before(async () => {
    s = await scenario();
  });
  after(async () => {
    await s.close();
  });

  describe('defaults', () => {
    let aq: RunningAqueduct;
    before(async () => {
      // The manifests are there before it starts, as in a deployment: the first apply serves them.
      const dir = await tempDir('aqueduct-logs-');
      await mkdir(path.join(dir, 'manifests'));
      await s.write(path.join(dir, 'manifests'), 'app.yaml', ...s.myapp());
      aq = await startAqueductProcess({ dir });
      await eventually(
        () => serverOf(s.port).catch(() => ''),
        (x) => x === 'live-1',
        15_000,
      );
      await aq.waitFor((l) => String(l.msg).startsWith('ready: '), 15_000, 0);
    });
    after(async () => void (await aq.stop()));

    it('logs each request HAProxy served as one JSON line with its route, status and timings', async () => {
      const mark = aq.logs.length;
      assert.equal((await getJson(s.port, '/hello?x=1')).status, 200);
      const line = await aq.waitFor((l) => l['source'] === 'access' && l['path'] === '/hello', 10_000, mark);
      assert.equal(line['frontend'], 'myapp');
      assert.equal(line['backend'], 'live');
      assert.match(String(line['server']), /^live_127\.0\.0\.1:\d+$/);
      assert.equal(line['status'], 200);
      assert.equal(line['method'], 'GET');
      for (const t of ['time_total_ms', 'bytes_read']) assert.equal(typeof line[t], 'number', t);
      assert.equal(line.msg, `GET /hello 200 (myapp → live/${String(line['server'])})`);
    });

    it('says once what is served where, and gives HAProxy its own levels with per-proxy chatter below info', async () => {
      const ready = aq.logs.filter((l) => String(l.msg).startsWith('ready: '));
      assert.equal(ready.length, 1, JSON.stringify(aq.logs.filter((l) => l['source'] !== 'haproxy').map((l) => l.msg)));
      assert.match(
        String(ready[0]?.msg),
        /frontends? \(.*myapp on 127\.0\.0\.1:\d+.*\); API on http:\/\/127\.0\.0\.1:\d+/,
      );
      const haproxy = aq.logs.filter((l) => l['source'] === 'haproxy');
      assert.ok(haproxy.some((l) => l['level'] === 30 && /Loading success/.test(String(l.msg))));
      assert.ok(haproxy.every((l) => !/Proxy \S+ stopped|Stopping (?:frontend|backend)/.test(String(l.msg))));
      assert.ok(!aq.logs.some((l) => /Server listening at/.test(String(l.msg))), "Fastify's line repeats ours");
    });
  });

  it('--accessLog off leaves the log lines out of the config; --logFormat pretty writes lines for people', async () => {
    const aq = await startServingMyapp(s, { args: ['--accessLog', 'off', '--logFormat', 'pretty'] });
    try {
      await aq.waitFor((l) => /ready: /.test(String(l.msg)), 10_000, 0);
      assert.ok(!/^\s*log /m.test(await readFile(aq.cfgPath, 'utf8')));
      const applyLine = aq.logs.find((l) => /apply reload: ok/.test(String(l.msg)));
      assert.ok(applyLine !== undefined && applyLine['level'] === undefined, 'not JSON');
      assert.match(String(applyLine.msg), /INFO.*apply reload: ok/);
      assert.ok(!aq.logs.some(isApply()), 'no JSON apply line');
    } finally {
      await aq.stop();
    }
  });
});
