// Start in order, stop in reverse, a failed start undoes what started, and a
// stop that hangs is bounded: the rest still stop. On a fake clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { startAll, stopAll, type Component } from '../../src/lifecycle.js';
import { FakeClock } from '../helpers/clock.js';

const log = pino({ level: 'silent' });

function recorded(names: string[], events: string[], hang?: string): Component[] {
  return names.map((name) => ({
    name,
    start: () => {
      if (name === 'bad') throw new Error('cannot start');
      events.push(`start ${name}`);
    },
    stop: () => {
      events.push(`stop ${name}`);
      return name === hang ? new Promise<void>(() => undefined) : undefined;
    },
  }));
}

describe('lifecycle', () => {
  it('starts in order and stops in reverse', async () => {
    const events: string[] = [];
    const clock = new FakeClock();
    const parts = recorded(['a', 'b', 'c'], events);
    await startAll(parts, { budgetMs: 1000, clock, log });
    assert.equal(await stopAll(parts, { budgetMs: 1000, clock, log }), true);
    assert.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('stops what had started when a later part fails to start, and says why', async () => {
    const events: string[] = [];
    const parts = recorded(['a', 'b', 'bad', 'c'], events);
    await assert.rejects(startAll(parts, { budgetMs: 1000, clock: new FakeClock(), log }), /cannot start/);
    assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
  });

  it('bounds the whole stop: a part that hangs is left behind and the parts after it still stop', async () => {
    const events: string[] = [];
    const clock = new FakeClock();
    const parts = recorded(['haproxy', 'loop', 'api'], events, 'loop');
    const stopping = stopAll(parts, { budgetMs: 5000, clock, log });
    await clock.advance(5000);
    assert.equal(await stopping, false);
    assert.deepEqual(events, ['stop api', 'stop loop', 'stop haproxy']);
  });
});
