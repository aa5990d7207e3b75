// The deploy state the reconciler keeps beside what it applies: each
// backend's rollout position (persisted in the state directory, so a restart
// resumes at the recorded step) and the health gates open now. Decisions are
// the pure functions of core/deploy; this reads HAProxy's counters and check
// results for them and records what moved.
import type { Logger } from 'pino';
import { gateSwitches } from '../core/deploy/health-gate.js';
import type { GateStatus } from '../core/manifests/api-shapes.js';
import {
  describeRollout,
  stepRollout,
  type Figures,
  type RolloutEvent,
  type RolloutPosition,
} from '../core/deploy/rollout.js';
import type { DesiredState } from '../core/rendering/desired-state.js';
import { checkPassed } from '../core/haproxy-output/runtime-output.js';
import type { BackendManifest } from '../core/manifests/model.js';
import { serverName } from '../core/rendering/names.js';
import { atVersion, subscriptionOf, type MemberLookup } from '../core/registry/subscription.js';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import type { Clock } from '../clock.js';

export type DeployEvent =
  | { type: 'rollout'; backend: string; event: RolloutEvent; position: RolloutPosition; message: string }
  | { type: 'gate'; backend: string; event: 'waiting' | 'timed-out' | 'passed'; gate: GateStatus; message: string };

export interface DeployStore {
  load(): Promise<Record<string, RolloutPosition> | undefined>;
  save(positions: Record<string, RolloutPosition>): Promise<void>;
}

export interface DeploysDeps {
  runtime: RuntimeApi;
  store: DeployStore;
  /** The instances of a subscription, from its source. */
  members: MemberLookup;
  clock: Clock;
  log: Logger;
  gateTimeoutMs: number;
}

const num = (row: Record<string, string>, col: string): number => Number(row[col] ?? 0) || 0;

/** Requests a server answered (every response class, plus connection and response errors) and those that failed. */
const ANSWERED = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];
const FIGURE_COLUMNS = ['pxname', 'svname', 'econ', 'eresp', ...ANSWERED];

function serverFigures(row: Record<string, string>): Figures {
  const errors = num(row, 'hrsp_5xx') + num(row, 'econ') + num(row, 'eresp');
  const answered = ANSWERED.reduce((sum, c) => sum + num(row, c), 0);
  return { requests: answered + num(row, 'econ') + num(row, 'eresp'), errors };
}

export class Deploys {
  private positions: Record<string, RolloutPosition> = {};
  private gates = new Map<string, GateStatus>();
  private listeners: ((e: DeployEvent) => void)[] = [];

  constructor(private readonly deps: DeploysDeps) {}

  async load(): Promise<void> {
    this.positions = (await this.deps.store.load()) ?? {};
  }

  onEvent(listener: (e: DeployEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: DeployEvent): void {
    this.deps.log.info({ backend: e.backend, event: e.event }, e.message);
    for (const l of this.listeners) l(e);
  }

  positionOf(backend: string): RolloutPosition | undefined {
    return Object.hasOwn(this.positions, backend) ? this.positions[backend] : undefined;
  }

  gateOf(backend: string): GateStatus | undefined {
    return this.gates.get(backend);
  }

  /** Every recorded rollout, by backend. */
  rollouts(): [string, RolloutPosition][] {
    return Object.entries(this.positions);
  }

  gatesOpen(): GateStatus[] {
    return [...this.gates.values()];
  }

  /** Whether something moves with time alone: a rollout in progress or a switch waiting for a check. */
  active(): boolean {
    return this.gates.size > 0 || Object.values(this.positions).some((p) => p.state === 'progressing');
  }

  /** Counters of the `to` version's servers of each backend rolling out, from one `show stat`. */
  private async counters(rolling: readonly BackendManifest[]): Promise<Map<string, Record<string, Figures>>> {
    const out = new Map<string, Record<string, Figures>>();
    if (rolling.length === 0) return out;
    const rows = await this.deps.runtime.stats(FIGURE_COLUMNS);
    for (const b of rolling) {
      const sub = subscriptionOf(b);
      const to = b.spec.rollout?.to;
      if (sub === undefined || to === undefined) continue;
      const names = new Set(
        this.deps.members(atVersion(sub, to)).map((r) => serverName(b.metadata.name, r.host, r.port)),
      );
      const figures: Record<string, Figures> = {};
      for (const row of rows)
        if (row['pxname'] === b.metadata.name && names.has(row['svname'] ?? ''))
          figures[row['svname'] ?? ''] = serverFigures(row);
      out.set(b.metadata.name, figures);
    }
    return out;
  }

  /**
   * Moves every rollout of these backends (the servable ones); returns one
   * line per move for the ledger. A new position is persisted before anyone
   * can see it: a kill at any moment resumes at a step the API has shown.
   */
  async advance(backends: readonly BackendManifest[]): Promise<string[]> {
    const now = this.deps.clock.now();
    const rolling = backends.filter((b) => b.spec.rollout !== undefined && b.spec.version !== undefined);
    const counters = await this.counters(rolling.filter((b) => this.positionOf(b.metadata.name)?.state !== 'aborted'));
    const next: Record<string, RolloutPosition> = { ...this.positions };
    const moves: Extract<DeployEvent, { type: 'rollout' }>[] = [];
    let changed = false;
    for (const b of rolling) {
      const name = b.metadata.name;
      const spec = b.spec.rollout;
      if (spec === undefined || b.spec.version === undefined) continue;
      const before = this.positionOf(name);
      const { position, event } = stepRollout(spec, b.spec.version, before, counters.get(name) ?? {}, now);
      next[name] = position;
      if (position !== before) changed = true;
      if (event !== undefined)
        moves.push({ type: 'rollout', backend: name, event, position, message: describeRollout(name, spec, position) });
    }
    for (const removed of this.removedRollouts(backends, now)) {
      next[removed.backend] = removed.position;
      changed = true;
      moves.push(removed);
    }
    if (changed) await this.deps.store.save(next);
    this.positions = next;
    for (const m of moves) this.emit(m);
    return moves.map((m) => m.message);
  }

  /** Rollouts in progress whose manifest no longer declares them: aborted. */
  private removedRollouts(
    backends: readonly BackendManifest[],
    now: number,
  ): Extract<DeployEvent, { type: 'rollout' }>[] {
    const out: Extract<DeployEvent, { type: 'rollout' }>[] = [];
    for (const [name, p] of Object.entries(this.positions)) {
      const b = backends.find((x) => x.metadata.name === name);
      if (p.state !== 'progressing' || (b !== undefined && b.spec.rollout?.to === p.to)) continue;
      const position: RolloutPosition = {
        ...p,
        state: 'aborted',
        share: 0,
        reason: 'the rollout was removed from the manifest',
        updatedAt: now,
      };
      const message = describeRollout(name, b?.spec.rollout, position);
      out.push({ type: 'rollout', backend: name, event: 'removed', position, message });
    }
    return out;
  }

  /** The desired state with every health-gated switch held back; returns notes for the ledger. */
  async gate(
    desired: DesiredState,
    applied: DesiredState | undefined,
  ): Promise<{ state: DesiredState; notes: string[] }> {
    const gated = new Set(desired.backends.filter((b) => b.health !== undefined).map((b) => b.name));
    if (gated.size === 0 || applied === undefined) {
      this.closeGates([]);
      return { state: desired, notes: [] };
    }
    const now = this.deps.clock.now();
    const input = { desired, applied, gated, open: this.gates, now, timeoutMs: this.deps.gateTimeoutMs };
    // HAProxy's check results matter only to a switch to servers none of which serves now: most runs
    // have none, and reading them costs ~25 ms at 10,000 servers. Asked for first, read only if needed.
    let asked = false;
    let { state, gates } = gateSwitches({ ...input, passed: () => ((asked = true), false) });
    if (asked) {
      const states = await this.deps.runtime.serversState().catch(() => []);
      const passed = new Set(states.filter(checkPassed).map((s) => `${s.backend}/${s.server}`));
      ({ state, gates } = gateSwitches({ ...input, passed: (b, s) => passed.has(`${b}/${s}`) }));
    }
    const notes: string[] = [];
    for (const g of gates) {
      const before = this.gates.get(g.backend);
      if (before === undefined || before.since !== g.since) {
        const message = `backend ${g.backend}: the old servers keep serving until one of ${g.waitingFor.length} new servers passes its health check`;
        notes.push(message);
        this.emit({ type: 'gate', backend: g.backend, event: 'waiting', gate: g, message });
      } else if (g.timedOut && !before.timedOut) {
        const message = `backend ${g.backend}: no new server passed its health check within ${Math.round(this.deps.gateTimeoutMs / 1000)} s; the old servers keep serving and the new ones get no traffic`;
        this.gates.set(g.backend, g); // who hears the event reads the gate as timed out
        this.emit({ type: 'gate', backend: g.backend, event: 'timed-out', gate: g, message });
      }
    }
    this.closeGates(gates);
    return { state, notes };
  }

  private closeGates(open: readonly GateStatus[]): void {
    const still = new Set(open.map((g) => g.backend));
    for (const [backend, g] of this.gates) {
      if (still.has(backend)) continue;
      this.emit({
        type: 'gate',
        backend,
        event: 'passed',
        gate: g,
        message: `backend ${backend}: a new server passed its health check; switching`,
      });
    }
    this.gates = new Map(open.map((g) => [g.backend, g]));
  }
}
