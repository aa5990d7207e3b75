// Deploy decisions as plain values: version weights, rollout steps and the
// health gate, with the time and HAProxy's counters passed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gateSwitches } from '../../src/core/deploy/health-gate.js';
import type { GateStatus } from '../../src/core/manifests/api-shapes.js';
import { holdEmptySwitches } from '../../src/core/deploy/empty-hold.js';
import { figuresSince, stepRollout, type Figures, type RolloutPosition } from '../../src/core/deploy/rollout.js';
import { splitMembers, trafficSplit, versionServerWeights } from '../../src/core/deploy/versions.js';
import type { DesiredBackend, DesiredServer, DesiredState } from '../../src/core/rendering/desired-state.js';
import type { BackendSpec, RolloutSpec } from '../../src/core/manifests/model.js';

const spec = (extra: Partial<BackendSpec> = {}): BackendSpec => ({
  type: 'dynamic',
  name: 'app',
  version: '1',
  balance: 'roundrobin',
  host: null,
  mode: 'http',
  natives: [],
  members: [],
  ...extra,
});
const rollout: RolloutSpec = { to: '2', steps: [10, 50, 100], stepSeconds: 60, maxErrorRate: 0.05, minRequests: 20 };

describe('weighted versions', () => {
  it('gives each version its share whatever its member count', () => {
    const w = versionServerWeights(
      [
        { version: 'a', weight: 80 },
        { version: 'b', weight: 20 },
      ],
      new Map([
        ['a', 2],
        ['b', 3],
      ]),
    );
    const share = (2 * (w.get('a') ?? 0)) / (2 * (w.get('a') ?? 0) + 3 * (w.get('b') ?? 0));
    assert.ok(Math.abs(share - 0.8) < 0.005, `share of a: ${share}`);
    assert.equal(w.get('a'), 256);
  });

  it('keeps a weight-0 version drained and a tiny share at least 1', () => {
    const w = versionServerWeights(
      [
        { version: 'a', weight: 999 },
        { version: 'b', weight: 1 },
        { version: 'c', weight: 0 },
      ],
      new Map([
        ['a', 1],
        ['b', 1],
        ['c', 4],
      ]),
    );
    assert.deepEqual([w.get('a'), w.get('b'), w.get('c')], [256, 1, 0]);
  });

  it('writes no weight for a single version, and every weight for a split', () => {
    const members = (v: string) => [{ host: `h${v}`, port: 1 }];
    assert.deepEqual(splitMembers([{ version: '1', weight: 100 }], members), [{ host: 'h1', port: 1 }]);
    assert.deepEqual(
      splitMembers(
        [
          { version: '1', weight: 50 },
          { version: '2', weight: 50 },
        ],
        members,
      ),
      [
        { host: 'h1', port: 1, weight: 256 },
        { host: 'h2', port: 1, weight: 256 },
      ],
    );
  });

  it('splits by the rollout position, by versions, or by version alone', () => {
    const position = (state: RolloutPosition['state'], step = 1): RolloutPosition => ({
      key: 'k',
      from: '1',
      to: '2',
      state,
      step,
      share: 50,
      stepStartedAt: 0,
      baseline: {},
      figures: { requests: 0, errors: 0 },
      updatedAt: 0,
    });
    assert.deepEqual(trafficSplit(spec()), [{ version: '1', weight: 100 }]);
    assert.deepEqual(trafficSplit(spec({ versions: [{ version: '3', weight: 1 }] })), [{ version: '3', weight: 1 }]);
    assert.deepEqual(trafficSplit(spec({ rollout }), position('progressing')), [
      { version: '1', weight: 50 },
      { version: '2', weight: 50 },
    ]);
    assert.deepEqual(trafficSplit(spec({ rollout }), position('aborted')), [{ version: '1', weight: 100 }]);
    assert.deepEqual(trafficSplit(spec({ rollout }), position('complete')), [{ version: '2', weight: 100 }]);
    assert.deepEqual(
      trafficSplit(spec(), position('progressing')),
      [{ version: '1', weight: 100 }],
      'no rollout in the spec',
    );
    assert.deepEqual(trafficSplit(spec({ type: 'static' })), []);
  });
});

describe('rollout steps', () => {
  const c = (requests: number, errors = 0): Record<string, Figures> => ({ s1: { requests, errors } });
  const started = stepRollout(rollout, '1', undefined, c(100), 1000).position;

  it('starts at the first step with the counters as they are', () => {
    assert.equal(started.state, 'progressing');
    assert.equal(started.step, 0);
    assert.deepEqual(started.baseline, c(100));
  });

  it('advances when the step has lasted and enough requests were answered', () => {
    const early = stepRollout(rollout, '1', started, c(200), 30_000);
    assert.equal(early.position.step, 0);
    assert.equal(early.event, undefined);
    const next = stepRollout(rollout, '1', started, c(200, 2), 61_000);
    assert.equal(next.event, 'advanced');
    assert.equal(next.position.step, 1);
    assert.equal(next.position.stepStartedAt, 61_000);
  });

  it('waits for minRequests before judging a step', () => {
    const idle = stepRollout(rollout, '1', started, c(105), 120_000);
    assert.equal(idle.position.step, 0);
    assert.match(idle.position.reason ?? '', /waiting for 15 more requests/);
  });

  it('rolls back as soon as the error rate passes the bound', () => {
    const bad = stepRollout(rollout, '1', started, c(130, 4), 5000);
    assert.equal(bad.event, 'aborted');
    assert.equal(bad.position.state, 'aborted');
    assert.deepEqual(bad.position.figures, { requests: 30, errors: 4 });
    assert.match(bad.position.reason ?? '', /4 of 30 requests to 2 failed \(13\.3%, above 5\.0%\) at 10%/);
    assert.equal(stepRollout(rollout, '1', bad.position, c(1000), 9e9).position, bad.position, 'an abort is final');
  });

  it('completes after the last step, and starts over when the rollout changes', () => {
    let p = started;
    for (const t of [61_000, 122_000, 183_000]) p = stepRollout(rollout, '1', p, c(p.step * 100 + 500), t).position;
    assert.equal(p.state, 'complete');
    const other = stepRollout({ ...rollout, to: '3' }, '1', p, c(0), 200_000);
    assert.equal(other.event, 'started');
    assert.equal(other.position.to, '3');
  });

  it('counts a counter below its baseline (a reload) from zero', () => {
    assert.deepEqual(
      figuresSince(
        { a: { requests: 50, errors: 5 } },
        { a: { requests: 10, errors: 1 }, b: { requests: 3, errors: 0 } },
      ),
      {
        requests: 13,
        errors: 1,
      },
    );
  });
});

const server = (port: number, weight?: number): DesiredServer => ({
  name: `b_h:${port}`,
  host: 'h',
  port,
  address: `h:${port}`,
  ...(weight === undefined ? {} : { weight }),
});
const backendOf = (servers: DesiredServer[], type: 'static' | 'dynamic' = 'static'): DesiredBackend => ({
  name: 'b',
  type,
  mode: 'http',
  balance: 'roundrobin',
  host: null,
  checkInterval: 1000,
  natives: [],
  servers,
});

describe('health-gated switch', () => {
  const backend = (servers: DesiredServer[]): DesiredBackend => backendOf(servers);
  const state = (servers: DesiredServer[]): DesiredState => ({ frontends: [], backends: [backend(servers)] });
  const gate = (desired: DesiredState, passed: string[] = [], open = new Map<string, GateStatus>(), now = 0) =>
    gateSwitches({
      desired,
      applied: state([server(1), server(2)]),
      gated: new Set(['b']),
      passed: (_b, s) => passed.includes(s),
      open,
      now,
      timeoutMs: 30_000,
    });

  it('holds a disjoint switch at the old servers, the new ones at weight 0', () => {
    const r = gate(state([server(3), server(4)]));
    assert.deepEqual(
      r.state.backends[0]?.servers.map((s) => [s.port, s.weight]),
      [
        [1, undefined],
        [2, undefined],
        [3, 0],
        [4, 0],
      ],
    );
    assert.deepEqual(r.gates[0]?.waitingFor, ['b_h:3', 'b_h:4']);
    assert.equal(r.gates[0]?.timedOut, false);
  });

  it('switches once one new server has passed a check', () => {
    const desired = state([server(3), server(4)]);
    const r = gate(desired, ['b_h:4']);
    assert.deepEqual(r.state, desired);
    assert.deepEqual(r.gates, []);
  });

  it('does not gate when an old server stays, nor a backend without a check', () => {
    const desired = state([server(2), server(3)]);
    assert.deepEqual(gate(desired).state, desired);
    const ungated = gateSwitches({
      desired: state([server(9)]),
      applied: state([server(1)]),
      gated: new Set(),
      passed: () => false,
      open: new Map(),
      now: 0,
      timeoutMs: 1,
    });
    assert.deepEqual(ungated.gates, []);
  });

  it('reports a timeout from when the switch began waiting, and keeps the old servers', () => {
    const desired = state([server(3)]);
    const first = gate(desired, [], new Map(), 1000);
    const open = new Map(first.gates.map((g) => [g.backend, g]));
    const later = gate(desired, [], open, 31_000);
    assert.equal(later.gates[0]?.since, 1000);
    assert.equal(later.gates[0]?.timedOut, true);
    assert.deepEqual(
      later.state.backends[0]?.servers.map((s) => s.port),
      [1, 2, 3],
    );
  });
});

describe('no switch to nothing', () => {
  const state = (servers: DesiredServer[]): DesiredState => ({
    frontends: [],
    backends: [backendOf(servers, 'dynamic')],
  });
  const hold = (desired: DesiredState, applied: DesiredState | undefined, guarded = ['b'], missing = ['app@9']) =>
    holdEmptySwitches({ desired, applied, guarded: new Set(guarded), missing: () => missing });

  it('keeps the current servers when the switch would leave none, and says what is missing', () => {
    const r = hold(state([]), state([server(1), server(2)]));
    assert.deepEqual(
      r.state.backends[0]?.servers.map((s) => s.port),
      [1, 2],
    );
    assert.equal(r.holds[0]?.empty, true);
    assert.match(r.holds[0]?.message ?? '', /^held: no instances of app@9; its current 2 server\(s\) keep serving/);
  });

  it('empties a backend that allows it, one never served, or one serving nothing already', () => {
    assert.deepEqual(hold(state([]), state([server(1)]), []).state.backends[0]?.servers, []);
    assert.deepEqual(hold(state([]), undefined).state.backends[0]?.servers, []);
    assert.deepEqual(hold(state([]), state([server(1, 0)])).state.backends[0]?.servers, []);
    assert.deepEqual(
      hold(state([]), state([server(1)]), ['b'], []).holds[0]?.message.startsWith('held: no servers'),
      true,
    );
  });

  it('serves a split missing a version from the others and reports it, without holding the servers', () => {
    const r = hold(state([server(3, 256)]), state([server(1)]), ['b'], ['app@2']);
    assert.deepEqual(
      r.state.backends[0]?.servers.map((s) => s.port),
      [3],
    );
    assert.equal(r.holds[0]?.empty, false);
    assert.match(r.holds[0]?.message ?? '', /its share goes to the other versions/);
    assert.deepEqual(hold(state([server(3)]), state([server(1)]), ['b'], []).holds, []);
  });
});
