// The dashboard's readings of the API and of HAProxy's stats: the words and
// figures a person sees, decided by plain functions (ui/src/model.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Stat } from '../../src/core/haproxy-output/stats.js';
import type { RegistryStatus } from '../../src/core/registry/registry-status.js';
import type { ApplyRecord } from '../../src/core/planning/ledger.js';
import type { ApiBackend } from '../../src/core/manifests/api-shapes.js';
import {
  activitySentence,
  backendState,
  foldNoops,
  lastCheck,
  memberCounts,
  registryText,
  rolloutLine,
  stateReason,
  stateWord,
  StatsStore,
} from '../../ui/src/model.js';

const stat = (status: string): Stat => ({ status }) as Stat;

function statOf(id: string, fiveXx: number, extra: Partial<Stat> = {}): Stat {
  const [, type = 'backend', key = ''] = id.split('/');
  return {
    id,
    _type: 'stat',
    type: type as Stat['type'],
    key,
    status: 'UP',
    connections: { current: 0, max: 0, limit: null, total: 0 },
    rate: 0,
    bytes: { in: 0, out: 0 },
    errors: { request: 0, connection: 0, response: 0 },
    responses: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': fiveXx },
    ...extra,
  };
}

const registry = (r: Partial<RegistryStatus>): RegistryStatus => ({
  kind: 'thalassa',
  connected: false,
  lastSync: null,
  lastError: null,
  instances: 0,
  graced: 0,
  ...r,
});

const backend = (members: ApiBackend['members']): ApiBackend =>
  ({ id: 'backend/live', _type: 'backend', key: 'live', type: 'static', members }) as ApiBackend;

describe('dashboard server states', () => {
  it("shows HAProxy's reason for a server it holds in maintenance, such as a host that does not resolve", () => {
    assert.equal(stateWord(stat('MAINT (resolution)')), 'MAINT');
    assert.equal(stateReason(stat('MAINT (resolution)')), 'resolution');
    assert.equal(stateReason(stat('UP')), undefined);
    assert.equal(stateReason(undefined), undefined);
  });

  it('says why a member has no last check: a host name that does not resolve, by HAProxy or by the API', () => {
    const member = statOf('stat/backendMember/pool_no-such.invalid:80', 0, {
      status: 'MAINT',
      key: 'pool_no-such.invalid:80',
    });
    assert.equal(lastCheck(member), '–');
    assert.equal(lastCheck(member, ['no-such.invalid:80']), 'not checked: its host name does not resolve');
    assert.equal(lastCheck({ ...member, status: 'MAINT (resolution)' }), 'not checked: its host name does not resolve');
    assert.equal(lastCheck({ ...member, check: { status: 'L7OK', code: 200, durationMs: 1 } }), 'L7OK');
  });
});

describe('the Overview before and after the first stats', () => {
  it("counts the API's members before the stream's first snapshot, and HAProxy's after it", () => {
    const stats = new StatsStore();
    const b = backend([
      { host: '127.0.0.1', port: 9001 },
      { host: '127.0.0.1', port: 9002 },
    ]);
    assert.deepEqual(memberCounts(stats, b), { up: undefined, total: 2 });
    assert.equal(backendState(stats, 'live'), 'loading');
    stats.apply([
      statOf('stat/backend/live', 0),
      statOf('stat/backendMember/live_127.0.0.1:9001', 0, { backend: 'live' }),
      statOf('stat/backendMember/live_127.0.0.1:9002', 0, { backend: 'live', status: 'DOWN' }),
    ]);
    assert.deepEqual(memberCounts(stats, b), { up: 1, total: 2 });
    assert.equal(backendState(stats, 'live'), 'UP');
    assert.equal(backendState(stats, 'gone'), 'not served');
  });

  it('gives every backend a 5xx rate from the second message on, 0 for one the delta left out', () => {
    const stats = new StatsStore();
    stats.apply([statOf('stat/backend/a', 10), statOf('stat/backend/b', 0)], [], 0);
    assert.equal(stats.errorRate.get('stat/backend/a'), undefined, 'no rate from one sample');
    stats.apply([statOf('stat/backend/a', 14)], [], 2000);
    assert.equal(stats.errorRate.get('stat/backend/a'), 2);
    assert.equal(stats.errorRate.get('stat/backend/b'), 0, 'unchanged: no 5xx in the interval');
    stats.apply([], [], 4000);
    assert.equal(stats.errorRate.get('stat/backend/a'), 0, 'an empty delta brings the rate back to 0');
    assert.equal(stats.history.get('a')?.length, 3, 'a chart point per message');
  });
});

describe('the Problems view', () => {
  it('says a registry is off, connected, or disconnected and why', () => {
    assert.equal(registryText(registry({ kind: 'none' })), 'none configured (--registry none)');
    assert.equal(registryText(undefined), 'none configured (--registry none)');
    assert.equal(registryText(registry({ connected: true })), 'connected');
    assert.equal(registryText(registry({ lastError: 'ECONNREFUSED' })), 'disconnected: ECONNREFUSED');
  });
});

const apply = (id: number, plan: ApplyRecord['plan'], result: ApplyRecord['result'] = 'ok'): ApplyRecord => ({
  id,
  at: '2026-12-02T00:00:00.000Z',
  triggers: [],
  plan,
  reasons: [],
  commands: 0,
  durationMs: 1,
  result,
});

describe('the Applies and Activity views', () => {
  it('folds each run of looks that changed nothing into one entry, and keeps failures and changes apart', () => {
    const folded = foldNoops([apply(6, 'noop'), apply(5, 'noop'), apply(4, 'reload'), apply(3, 'noop', 'failed')]);
    assert.deepEqual(
      folded.map((e) => ('apply' in e ? e.apply.id : e.noops.map((a) => a.id))),
      [[6, 5], 4, 3],
    );
  });

  it('words each activity as a sentence', () => {
    const at = '2026-12-02T00:00:00.000Z';
    const changed = {
      event: 'config-changed',
      at,
      apply: 21,
      plan: 'reload',
      reasons: ['frontend myapp changed'],
      durationMs: 182,
    };
    assert.equal(activitySentence(changed), 'apply 21: reload ok, frontend myapp changed, 182 ms');
    assert.equal(
      activitySentence({ event: 'reloaded', at, apply: 21, workerPid: 42 }),
      'HAProxy reloaded (apply 21), new worker 42',
    );
    assert.equal(
      activitySentence({ event: 'apply-failed', at, apply: 22, result: 'rejected', error: 'haproxy -c: bad' }),
      'apply 22 rejected: haproxy -c: bad',
    );
    assert.equal(
      activitySentence({ event: 'registry-online', at, id: '/myapp/1.0.0/127.0.0.1/9001' }),
      'registry: /myapp/1.0.0/127.0.0.1/9001 came online',
    );
    assert.equal(
      activitySentence({ event: 'registry-disconnected', at, reason: 'ECONNREFUSED' }),
      'registry disconnected: ECONNREFUSED',
    );
    assert.equal(
      activitySentence({ event: 'rollout-aborted', at, message: 'backend live: rolled back' }),
      'backend live: rolled back',
    );
  });

  it('names both versions of a rollout from its position, after its spec is gone', () => {
    const position = {
      key: 'k',
      from: '1.0.0',
      to: '1.2.0',
      step: 0,
      share: 0,
      stepStartedAt: 0,
      baseline: {},
      updatedAt: 0,
    };
    const figures = { requests: 41, errors: 12 };
    assert.equal(
      rolloutLine({ ...position, state: 'aborted', figures, reason: '12 of 41 failed' }),
      'Rollout 1.0.0 → 1.2.0: aborted at step 1 (12 of 41 failed)',
    );
    assert.equal(
      rolloutLine({ ...position, state: 'progressing', step: 1, share: 50, figures }),
      'Rollout 1.0.0 → 1.2.0: progressing, step 2, 50% of requests',
    );
  });
});
