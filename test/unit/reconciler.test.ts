// The reconciler's decisions, driven with fakes at its edges (test/helpers/
// fake-loop.ts) and a fake clock: which plan each change takes, what it sends
// HAProxy, and what it records, for the paths that matter in production.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fakeLoop } from '../helpers/fake-loop.js';
import { backend, frontend, staticBackend } from '../helpers/fixtures.js';

const web = (extra = {}) => frontend('web', { bind: '127.0.0.1:8080', backend: 'b', ...extra });
const last = (l: Awaited<ReturnType<typeof fakeLoop>>) => l.reconciler.ledger().at(-1);

describe('reconciler', () => {
  it('starts HAProxy on the first run, then does nothing while nothing changes', async () => {
    const l = await fakeLoop();
    l.set(web(), staticBackend('b', [9001]));
    await l.run('startup');
    assert.deepEqual([last(l)?.plan, last(l)?.result, l.reloads], ['reload', 'ok', 1]);
    assert.match(await readFile(l.cfgPath, 'utf8'), /server b_127\.0\.0\.1:9001 /);
    const before = l.reconciler.ledger().length;
    await l.run('resync');
    assert.equal(l.reconciler.ledger().length, before, 'a quiet resync is not worth a ledger entry');
    assert.equal(l.reloads, 1);
  });

  it('swaps a member through the runtime API, new server first, without a reload', async () => {
    const l = await fakeLoop();
    l.set(web(), staticBackend('b', [9001]));
    await l.run('startup');
    const mark = l.batches.length;
    l.set(web(), staticBackend('b', [9002]));
    await l.run();
    assert.deepEqual([last(l)?.plan, last(l)?.result, l.reloads], ['runtime', 'ok', 1]);
    assert.deepEqual(l.batches[mark], [
      'add server b/b_127.0.0.1:9002 127.0.0.1:9002 check inter 2000',
      'enable health b/b_127.0.0.1:9002',
      'enable server b/b_127.0.0.1:9002',
      'set server b/b_127.0.0.1:9001 state drain',
    ]);
    assert.equal(last(l)?.generation, 2, 'the runtime apply names the generation its config is recorded as');
  });

  it('reloads for a structural change, and defers a second one inside the quiet time of a storm', async () => {
    const l = await fakeLoop();
    l.set(web(), staticBackend('b', [9001]));
    await l.run('startup');
    await l.clock.advance(10_000);
    l.set(web({ natives: ['http-request set-header X-A 1'] }), staticBackend('b', [9001]));
    await l.run();
    assert.deepEqual([last(l)?.plan, last(l)?.result, l.reloads], ['reload', 'ok', 2]);
    l.set(web({ natives: ['http-request set-header X-A 2'] }), staticBackend('b', [9001]));
    const result = await l.run();
    assert.equal(last(l)?.result, 'deferred');
    assert.ok((result?.retryAfterMs ?? 0) > 0, 'asks to run again once the storm is quiet');
    await l.clock.advance(result?.retryAfterMs ?? 0);
    await l.run('retry');
    assert.deepEqual([last(l)?.result, l.reloads], ['ok', 3]);
  });

  it("sets aside the object haproxy -c refuses, serving the rest, and says so in the object's status", async () => {
    const l = await fakeLoop();
    l.set(web(), staticBackend('b', [9001]));
    await l.run('startup');
    l.refuse = 'this-is-not-haproxy';
    l.set(
      web(),
      staticBackend('b', [9001]),
      backend('bad', { type: 'static', members: [], natives: ['this-is-not-haproxy 1'] }),
    );
    const result = await l.run();
    assert.deepEqual([last(l)?.plan, last(l)?.result], ['reload', 'rejected']);
    assert.match(last(l)?.error ?? '', /set aside m\.yaml Backend\/bad/);
    assert.equal(result?.retryAfterMs, 0, 'runs again at once without it');
    await l.run('retry');
    assert.ok(!(await readFile(l.cfgPath, 'utf8')).includes('backend bad'));
    assert.ok(l.reconciler.status().issues.some((i) => i.name === 'bad'));
  });

  it('records a failed reload and puts the last good config file back', async () => {
    const l = await fakeLoop();
    l.set(web(), staticBackend('b', [9001]));
    await l.run('startup');
    const good = await readFile(l.cfgPath, 'utf8');
    await l.clock.advance(10_000);
    l.reloadOutcomes.push({ ok: false, message: 'HAProxy failed to load the new config' });
    l.set(web({ natives: ['http-request set-header X-A 1'] }), staticBackend('b', [9001]));
    await l.run();
    assert.deepEqual([last(l)?.plan, last(l)?.result], ['reload', 'failed']);
    assert.equal(await readFile(l.cfgPath, 'utf8'), good);
  });
});
