// Zero lost requests: real HTTP traffic, keep-alive and new connections,
// through a real HAProxy while Aqueduct reloads it more than 50 times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApply, startAqueductProcess } from '../helpers/aqueduct.js';
import { getJson } from '../helpers/haproxy.js';
import { startLoad } from '../helpers/load.js';
import { scenario } from '../helpers/scenario.js';

const RELOADS = 55;

describe('zero lost requests', () => {
  it(`loses no request across ${RELOADS} reloads under keep-alive and new-connection load`, async () => {
    const s = await scenario();
    const aq = await startAqueductProcess({ args: ['--minReloadInterval', '50'] });
    try {
      const write = (gen: number) =>
        s.write(
          aq.manifests,
          'm.yaml',
          ...s.myapp({ natives: [`http-response set-header X-Generation ${gen}`] }, ['live-1', 'live-2']),
        );
      await write(0);
      await aq.waitFor(isApply('reload'), 15_000, 0);
      assert.equal((await getJson(s.port, '/')).status, 200);
      const load = startLoad(s.port, { keepAlive: 24, fresh: 6 });
      let reloads = 0;
      for (let gen = 1; reloads < RELOADS; gen++) {
        const mark = aq.logs.length;
        await write(gen);
        await aq.waitFor((l) => isApply('reload')(l) || isApply('reload', 'failed')(l), 10_000, mark);
        reloads = aq.logs.filter(isApply('reload')).length - 1;
        await new Promise((r) => setTimeout(r, 60));
      }
      const result = await load.stop();
      assert.ok(!aq.logs.some(isApply('reload', 'failed')), 'no reload failed');
      assert.ok(result.ok > 1000, `only ${result.ok} requests were made`);
      assert.equal(
        result.failed,
        0,
        `failed requests: ${JSON.stringify([...result.errors])} of ${result.ok + result.failed}`,
      );
      process.stdout.write(`# zero-loss: ${result.ok} requests, ${result.failed} failed, ${reloads} reloads\n`);
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});
