// The runtime applier against a fake runtime API: the exact commands, in
// batches, in make-before-break order, and drains finished in the background.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { RuntimeOp } from '../../src/core/planning/plan.js';
import { RuntimeApplier } from '../../src/haproxy/runtime-applier.js';
import type { RuntimeCommand } from '../../src/haproxy/commands.js';
import { FakeClock } from '../helpers/clock.js';
import { fakeRuntime } from '../helpers/fake-loop.js';

const add = (server: string): RuntimeOp => ({ op: 'add', backend: 'b', server, address: '1.1.1.1:1', args: ['check'] });
const remove = (server: string): RuntimeOp => ({ op: 'remove', backend: 'b', server });
const setMap = (...entries: [string, string][]): RuntimeOp => ({ op: 'set-map', file: '/m/web.1.map', entries });

describe('runtime applier', () => {
  it('sends one apply as one batch, in the planned order', async () => {
    const { api, batches } = fakeRuntime();
    const applier = new RuntimeApplier(api, pino({ level: 'silent' }), 1000);
    const result = await applier.apply([add('n'), remove('o')]);
    assert.deepEqual(batches[0], [
      'add server b/n 1.1.1.1:1 check',
      'enable health b/n',
      'enable server b/n',
      'set server b/o state drain',
    ]);
    assert.equal(result.commands, 4);
    await applier.settle();
    assert.deepEqual(batches[1], ['set server b/o state maint', 'shutdown sessions server b/o', 'del server b/o']);
    assert.deepEqual([...applier.draining()], []);
  });

  it('fills a new version of a routing map and commits it in the batch, after new servers and before drains', async () => {
    const { api, batches } = fakeRuntime();
    const applier = new RuntimeApplier(api, pino({ level: 'silent' }), 1000);
    const map = setMap(['/api/', 'b'], ['/', 'c']);
    await applier.apply([add('n'), map, remove('o')]);
    assert.deepEqual(batches[0], ['prepare map /m/web.1.map']);
    assert.deepEqual(batches[1], [
      'add server b/n 1.1.1.1:1 check',
      'enable health b/n',
      'enable server b/n',
      'add map @1 /m/web.1.map /api/ b',
      'add map @1 /m/web.1.map / c',
    ]);
    assert.deepEqual(batches[2], ['commit map @1 /m/web.1.map', 'set server b/o state drain']);
    await applier.settle();
  });

  it('commits no map and drains nothing when HAProxy refused an entry', async () => {
    const { api, batches } = fakeRuntime();
    const refusing = {
      ...api,
      commands: async (list: readonly RuntimeCommand[]) =>
        (await api.commands(list)).map((a, i) => (list[i]?.command.includes(' (') ? 'regex error' : a)),
    };
    const applier = new RuntimeApplier(refusing, pino({ level: 'silent' }), 1000);
    const map = setMap(['^/a', 'b'], ['(', 'c']);
    await assert.rejects(applier.apply([map, remove('o')]), /HAProxy refused 'add map @1 \/m\/web.1.map \( c'/);
    assert.deepEqual(
      batches.flat().filter((c) => /commit|drain/.test(c)),
      [],
    );
  });

  it('waits for a drained server to lose its sessions, and revives one that comes back', async () => {
    const sessions = new Map([['b/o', 3]]);
    const { api, batches } = fakeRuntime(sessions);
    const clock = new FakeClock();
    const applier = new RuntimeApplier(api, pino({ level: 'silent' }), 60_000, clock);
    await applier.apply([remove('o')]);
    assert.deepEqual([...applier.draining()], ['b/o']);
    await applier.apply([add('o')]);
    assert.deepEqual(batches[1], ['set server b/o state ready', 'set weight b/o 1']);
    await clock.advance(200);
    await applier.settle();
    assert.ok(!batches.flat().includes('del server b/o'), 'a revived server is never deleted');
  });

  it('never deletes a server revived while a drain round was looking at its sessions', async () => {
    const { api, batches } = fakeRuntime();
    let release = (): void => undefined;
    const looking = new Promise<Map<string, number>>((resolve) => {
      release = () => resolve(new Map([['b/o', 0]]));
    });
    const clock = new FakeClock();
    const applier = new RuntimeApplier({ ...api, sessions: () => looking }, pino({ level: 'silent' }), 60_000, clock);
    await applier.apply([remove('o')]); // the drain round now waits for HAProxy's session counts
    await applier.apply([add('o')]); // o comes back meanwhile
    release(); // the round sees o without sessions: it must not finish a removal that was undone
    await clock.advance(200);
    await applier.settle();
    assert.ok(!batches.flat().includes('del server b/o'), batches.flat().join('; '));
  });

  it('deletes a drained server once its sessions are gone, and at the drain timeout at the latest', async () => {
    const sessions = new Map([
      ['b/o', 2],
      ['b/p', 5],
    ]);
    const { api, batches } = fakeRuntime(sessions);
    const clock = new FakeClock();
    const applier = new RuntimeApplier(api, pino({ level: 'silent' }), 1000, clock);
    await applier.apply([remove('o'), remove('p')]);
    const deleted = () => batches.flat().filter((c) => c.startsWith('del server'));
    await clock.advance(400);
    assert.deepEqual(deleted(), [], 'both still have sessions');
    sessions.set('b/o', 0);
    await clock.advance(200);
    assert.deepEqual(deleted(), ['del server b/o']);
    await clock.advance(1000);
    assert.deepEqual(deleted(), ['del server b/o', 'del server b/p'], 'past the drain timeout');
    await applier.settle();
    assert.deepEqual([...applier.draining()], []);
  });

  it('throws the first command HAProxy refuses', async () => {
    const { api } = fakeRuntime();
    api.commands = async (list) => list.map(() => 'No such server.');
    const applier = new RuntimeApplier(api, pino({ level: 'silent' }), 1000);
    await assert.rejects(applier.apply([add('x')]), /refused 'add server b\/x 1\.1\.1\.1:1 check'/);
  });
});
