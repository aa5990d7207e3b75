// The reconciler's decisions carried out against fakes at its edges (test/
// helpers/fake-loop.ts): a config store in memory, an HAProxy that reloads or
// fails as told, a runtime API that records its commands, and a fake clock.
// Every plan kind and failure path, each in milliseconds. The real HAProxy
// proofs are the integration tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeLoop, type FakeLoop } from '../helpers/fake-loop.js';
import { parseManifestFile } from '../../src/core/manifests/manifests.js';
import { backend, frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';

const web = (extra = {}) => frontend('web', { bind: '127.0.0.1:8080', backend: 'b', ...extra });
const natives = (n: number) => web({ natives: [`http-request set-header X-A ${n}`] });
const last = (l: FakeLoop) => l.reconciler.served.ledger().at(-1);
const summary = (l: FakeLoop) => [last(l)?.plan, last(l)?.result, l.reloads];

/** A loop serving web → b (one member on 9001) since a first run, with the reload budget full again. */
async function serving(): Promise<FakeLoop> {
  const l = await fakeLoop();
  l.set(web(), staticBackend('b', [9001]));
  await l.run('startup');
  await l.clock.advance(10_000);
  return l;
}

interface Case {
  name: string;
  /** What happens to a serving loop; returns what the run asked of the queue. */
  when(l: FakeLoop): Promise<unknown>;
  /** [plan, result, reloads so far] of the last ledger entry. */
  expect: [string, string, number];
  then?(l: FakeLoop, asked: unknown): void | Promise<void>;
}

const cases: Case[] = [
  {
    name: 'noop: an unchanged config records a look and changes nothing',
    when: (l) => l.run('watch'),
    expect: ['noop', 'ok', 1],
    then: (l) => assert.equal(l.batches.length, 0),
  },
  {
    name: 'runtime: a member swap is sent new server first, without a reload, and installed in the background',
    when: async (l) => {
      l.set(web(), staticBackend('b', [9002]));
      await l.run();
      await l.reconciler.settled();
    },
    expect: ['runtime', 'ok', 1],
    then: (l) => {
      assert.deepEqual(l.batches[0], [
        'add server b/b_127.0.0.1:9002 127.0.0.1:9002 check inter 2000',
        'enable health b/b_127.0.0.1:9002',
        'enable server b/b_127.0.0.1:9002',
        'set server b/b_127.0.0.1:9001 state drain',
      ]);
      assert.equal(last(l)?.generation, 2, 'names the generation its config is recorded as');
      assert.match(l.store.file ?? '', /server b_127\.0\.0\.1:9002 /);
      assert.equal(l.store.history.get(2), l.store.file);
    },
  },
  {
    name: 'reload: a structural change is checked, installed and reloaded, and recorded as a generation',
    when: (l) => {
      l.set(natives(1), staticBackend('b', [9001]));
      return l.run();
    },
    expect: ['reload', 'ok', 2],
    then: (l) => {
      assert.match(l.store.file ?? '', /X-A 1/);
      assert.equal(l.store.applied?.generation, 2);
      assert.equal(last(l)?.workerPid, 1002);
    },
  },
  {
    name: 'deferred: a second structural change inside the quiet time of a storm waits, then reloads',
    when: async (l) => {
      l.set(natives(1), staticBackend('b', [9001]));
      await l.run();
      l.set(natives(2), staticBackend('b', [9001]));
      return l.run();
    },
    expect: ['reload', 'deferred', 2],
    then: async (l, asked) => {
      const wait = (asked as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
      assert.ok(wait > 0, 'asks to run again once the storm is quiet');
      await l.clock.advance(wait);
      await l.run('retry');
      assert.deepEqual(summary(l), ['reload', 'ok', 3]);
    },
  },
  {
    name: 'rejected: the object haproxy -c refuses is set aside and the rest is served',
    when: (l) => {
      l.refuse = 'this-is-not-haproxy';
      l.set(
        web(),
        staticBackend('b', [9001]),
        backend('bad', { type: 'static', members: [], natives: [`${l.refuse} 1`] }),
      );
      return l.run();
    },
    expect: ['reload', 'rejected', 1],
    then: async (l, asked) => {
      assert.match(last(l)?.error ?? '', /set aside m\.yaml Backend\/bad/);
      assert.deepEqual(asked, { retryAfterMs: 0 }, 'runs again at once without it');
      await l.run('retry');
      assert.ok(!(l.store.file ?? '').includes('backend bad'));
      assert.ok(l.reconciler.served.status().issues.some((i) => i.name === 'bad'));
    },
  },
  {
    name: 'failed reload: the last good file is put back, the changed object is set aside and tried again later',
    when: (l) => {
      l.reloadOutcomes.push({ ok: false, message: 'HAProxy failed to load the new config' });
      l.set(natives(1), staticBackend('b', [9001]));
      return l.run();
    },
    expect: ['reload', 'failed', 2],
    then: async (l, asked) => {
      assert.doesNotMatch(l.store.file ?? '', /X-A 1/, 'the good file is back');
      assert.match(last(l)?.error ?? '', /set aside m\.yaml Frontend\/web \(tried again later\)/);
      assert.deepEqual(asked, { retryAfterMs: 0 });
      await l.run('retry');
      assert.equal(l.reloads, 2, 'the rest is what is served already');
      await l.clock.advance(30_000);
      await l.run('resync');
      assert.deepEqual(summary(l), ['reload', 'ok', 3], 'after the backoff it is tried again, and now loads');
    },
  },
  {
    name: 'disk full: the config cannot be written, HAProxy keeps serving and nothing reloads',
    when: (l) => {
      l.store.failWrites = 'ENOSPC';
      l.set(natives(1), staticBackend('b', [9001]));
      return l.run();
    },
    expect: ['reload', 'failed', 1],
    then: (l, asked) => {
      assert.match(last(l)?.error ?? '', /cannot write \/memory\/haproxy\.cfg \(ENOSPC\); HAProxy keeps serving/);
      assert.deepEqual(asked, { retryAfterMs: 30_000 });
      assert.doesNotMatch(l.store.file ?? '', /X-A 1/);
    },
  },
  {
    name: 'runtime API failure: a refused command leaves the state unknown, so a reload converges it',
    when: (l) => {
      l.runtimeFailure = 'Unknown command';
      l.set(web(), staticBackend('b', [9002]));
      return l.run();
    },
    expect: ['reload', 'ok', 2],
    then: (l) => assert.ok(last(l)?.reasons.some((r) => r.includes('runtime API failed: Unknown command'))),
  },
  {
    name: 'HAProxy down: an unchanged config is reloaded to start it again',
    when: (l) => {
      l.running = false;
      return l.run('haproxy-exited');
    },
    expect: ['reload', 'ok', 2],
    then: (l) => assert.equal(last(l)?.reasons[0], 'HAProxy is not running'),
  },
  {
    name: 'drift repair: a server put in maintenance outside Aqueduct is made ready at the resync',
    when: (l) => {
      l.tamper = (states) => states.map((s) => ({ ...s, adminState: 0x01 }));
      return l.run('resync');
    },
    expect: ['reload', 'ok', 1],
    then: (l) => assert.deepEqual(l.batches, [['set server b/b_127.0.0.1:9001 state ready']]),
  },
  {
    name: 'drift repair: a missing server is added back at the resync',
    when: (l) => {
      l.tamper = () => [];
      return l.run('resync');
    },
    expect: ['reload', 'ok', 1],
    then: (l) => assert.equal(l.batches[0]?.[0], 'add server b/b_127.0.0.1:9001 127.0.0.1:9001 check inter 2000'),
  },
  {
    name: 'restart: the applied config is resumed from the store, so a restart does not reload',
    when: async (l) => {
      await l.restart();
      return l.run('startup');
    },
    expect: ['noop', 'ok', 1],
    then: (l) => assert.equal(l.reconciler.served.status().generation, 1),
  },
  {
    name: 'restart after a foreign edit of the file: nothing is resumed, the declared config is installed',
    when: async (l) => {
      l.store.file = `${l.store.file ?? ''}\n# edited by hand\n`;
      await l.restart();
      return l.run('startup');
    },
    expect: ['reload', 'ok', 2],
    then: (l) => assert.doesNotMatch(l.store.file ?? '', /edited by hand/),
  },
];

describe('reconciler', () => {
  for (const c of cases)
    it(c.name, async () => {
      const l = await serving();
      const asked = await c.when(l);
      assert.deepEqual(summary(l), c.expect);
      await c.then?.(l, asked);
    });

  it('holds a first config HAProxy would not load for 30 s instead of retrying it at once', async () => {
    const l = await fakeLoop();
    l.reloadOutcomes.push({ ok: false, message: 'HAProxy failed to start' });
    l.set(web(), staticBackend('b', [9001]));
    assert.deepEqual(await l.run('startup'), { retryAfterMs: 30_000 });
    assert.deepEqual(await l.run('watch'), { retryAfterMs: 30_000 }, 'held: the same config is not tried again');
    assert.equal(l.reloads, 1);
    await l.clock.advance(30_000);
    await l.run('retry');
    assert.deepEqual(summary(l), ['reload', 'ok', 2]);
  });

  it('keeps serving the objects of a file read empty (written in place), and deletes them with the file', async () => {
    const l = await serving();
    l.files = [{ path: 'm.yaml', text: '' }];
    await l.run('watch');
    assert.deepEqual(summary(l), ['noop', 'ok', 1], 'a file caught mid-write takes nothing away');
    assert.match(l.store.file ?? '', /^frontend web$/m);
    l.files = [];
    await l.run('watch');
    assert.deepEqual(summary(l), ['reload', 'ok', 2]);
    assert.doesNotMatch(l.store.file ?? '', /^frontend web$/m);
  });

  it('does not record a quiet resync that finds nothing to do', async () => {
    const l = await serving();
    const before = l.reconciler.served.ledger().length;
    await l.run('resync');
    assert.equal(l.reconciler.served.ledger().length, before);
  });

  it('tells its listeners how each run ended, as the metrics count them', async () => {
    const l = await serving();
    const results: string[] = [];
    l.reconciler.onReconciled((result) => results.push(result));
    await l.run('resync');
    await l.run('watch');
    l.set(natives(1), staticBackend('b', [9001]));
    await l.run();
    l.set(natives(2), staticBackend('b', [9001]));
    await l.run();
    assert.deepEqual(results, ['noop', 'ok', 'ok', 'deferred']);
  });

  it("tells the member sources what its own runs serve, never what a dry run or a write's check looked at", async () => {
    const l = await serving();
    l.followed.length = 0;
    const other = parseManifestFile(yamlFile('other.yaml', web({ backend: 'x' }), staticBackend('x', [9009])));
    l.reconciler.candidates.preview(other);
    await l.reconciler.candidates.checkCandidate(other, async () => ({ ok: true, errors: [], output: '' }));
    assert.deepEqual(l.followed, [], 'a check of other manifests changes nothing the sources follow');
    await l.run('watch');
    assert.deepEqual(l.followed, [['b']]);
  });
});
