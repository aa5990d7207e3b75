// What HAProxy actually serves (its servers and its routing maps), compared
// with what was applied: drift is repaired through the runtime API (or, when
// only a reload can, the next run reloads), members HAProxy cannot resolve
// are noted for the status, and each check's outcome is kept for /status and
// the metrics.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DriftCheck } from '../core/manifests/api-shapes.js';
import { parseShowMap, unresolved, type ServerState } from '../core/haproxy-output/runtime-output.js';
import { detectDrift, detectMapDrift } from '../core/planning/drift.js';
import { routeMapsOf } from '../core/rendering/config-sections.js';
import { showMap } from '../haproxy/commands.js';
import type { DesiredState } from '../core/rendering/desired-state.js';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import type { RuntimeApplier } from '../haproxy/runtime-applier.js';
import type { LoopState } from './run-types.js';

export interface DriftWatchDeps {
  runtime: RuntimeApi;
  applier: RuntimeApplier;
  clock: Clock;
  log: Logger;
}

export class DriftWatch {
  /** Servers HAProxy could not resolve, by backend (server name to host:port), from the last look at its servers. */
  private unresolvedBy = new Map<string, Map<string, string>>();
  private lastCheck: DriftCheck | undefined;
  private running: Promise<void> = Promise.resolve();
  private listeners: ((c: DriftCheck) => void)[] = [];

  constructor(
    private readonly deps: DriftWatchDeps,
    private readonly state: LoopState,
  ) {}

  last(): DriftCheck | undefined {
    return this.lastCheck;
  }

  /** Resolves once the drift check under way (the one that follows a reload) is done. */
  settled(): Promise<void> {
    return this.running;
  }

  /** Calls listener after every drift check (the metrics count them by result). */
  onCheck(listener: (c: DriftCheck) => void): void {
    this.listeners.push(listener);
  }

  /** The drift check and repair, its outcome kept rather than only logged. */
  check(): Promise<void> {
    this.running = this.checkNow();
    return this.running;
  }

  private async checkNow(): Promise<void> {
    if (this.state.applied === undefined) return;
    const at = new Date(this.deps.clock.now()).toISOString();
    try {
      await this.repair();
      this.lastCheck = { at, ok: true };
      this.deps.log.debug('drift check: HAProxy serves what was applied');
    } catch (err) {
      const error = (err as Error).message;
      this.deps.log.warn({ err: error }, 'drift check failed: what HAProxy serves could not be compared');
      this.lastCheck = { at, ok: false, error };
    }
    for (const l of this.listeners) l(this.lastCheck);
  }

  private async repair(): Promise<void> {
    const applied = this.state.applied;
    if (applied === undefined) return;
    const states = await this.deps.runtime.serversState();
    this.noteUnresolved(applied.state, states);
    const servers = detectDrift(applied.config, states, this.deps.applier.draining());
    const maps = await this.mapDrift(applied.config);
    const ops = [...servers.ops, ...maps.ops];
    if (ops.length > 0) {
      const reasons = [...servers.reasons, ...maps.reasons];
      this.deps.log.warn({ reasons }, 'repairing drift between HAProxy and the applied config');
      await this.deps.applier.apply(ops);
    }
    const needsReload = [...servers.needsReload, ...maps.needsReload];
    if (needsReload.length > 0) this.state.forceReload = `drift only a reload repairs: ${needsReload.join(', ')}`;
  }

  /** The applied routing maps against what HAProxy's `show map` lists, in one batch. */
  private async mapDrift(config: string): Promise<ReturnType<typeof detectMapDrift>> {
    const applied = routeMapsOf(config);
    const files = [...applied.keys()];
    const answers = files.length === 0 ? [] : await this.deps.runtime.commands(files.map(showMap));
    const served = new Map(files.map((f, i) => [f, parseShowMap(answers[i] ?? '')]));
    return detectMapDrift(applied, served);
  }

  private noteUnresolved(state: DesiredState, states: readonly ServerState[]): void {
    const named = new Map(state.backends.flatMap((b) => b.servers.map((s) => [`${b.name}/${s.name}`, s] as const)));
    const by = new Map<string, Map<string, string>>();
    for (const s of states.filter(unresolved)) {
      const server = named.get(`${s.backend}/${s.server}`);
      if (server === undefined) continue;
      const m = by.get(s.backend) ?? new Map<string, string>();
      by.set(s.backend, m.set(s.server, `${server.host}:${server.port}`));
    }
    for (const [backend, members] of by) {
      const list = [...members.values()];
      if ([...(this.unresolvedBy.get(backend)?.values() ?? [])].join() !== list.join())
        this.deps.log.warn({ backend, members: list }, `backend ${backend}: HAProxy cannot resolve ${list.join(', ')}`);
    }
    this.unresolvedBy = by;
  }

  /** The members of a backend HAProxy could not resolve at the last look and that are still applied. */
  unresolvedOf(backend: string): string[] | undefined {
    const seen = this.unresolvedBy.get(backend);
    if (seen === undefined) return undefined;
    const applied = this.state.applied?.state.backends.find((b) => b.name === backend);
    const servers = new Set(applied?.servers.map((s) => s.name));
    const still = [...seen].filter(([server]) => servers.has(server)).map(([, member]) => member);
    return still.length > 0 ? still : undefined;
  }
}
