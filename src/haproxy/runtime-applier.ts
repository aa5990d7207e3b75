// Applies planned runtime ops: every command of one apply goes to HAProxy in
// one batch over one connection, in the planned (make before break) order
// (a routing map's new version is prepared just before: its number is
// HAProxy's answer).
// Removals only drain there; one background loop per apply then finishes
// them: maintenance, close what is left, delete, once a server's sessions
// are gone or the drain timeout passes.
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from 'pino';
import type { MapOp, RuntimeOp, ServerOp } from '../core/planning/plan.js';
import { commandsFor, mapCommands, refusal, RuntimeCommandError, type RuntimeApi } from './runtime-api.js';
import {
  delServer,
  prepareMap,
  preparedVersion,
  serverId,
  setServerState,
  setWeight,
  shutdownSessions,
  type RuntimeCommand,
  type ServerId,
} from './commands.js';

/** How often a drain looks at sessions, and how many looks past the timeout a delete may still take. */
const DRAIN_POLL_MS = 200;
const DELETE_ROUNDS_AFTER_TIMEOUT = 20;

export interface ApplyOpsResult {
  applied: number;
  commands: number;
}

interface Removal {
  id: ServerId;
  cancelled: boolean;
}

/** A drained server's last steps: out of rotation for good, its last sessions closed, deleted. */
const finishing = (id: ServerId): RuntimeCommand[] => [
  setServerState(id, 'maint'),
  shutdownSessions(id),
  delServer(id),
];

export class RuntimeApplier {
  /** backend/server to its pending removal. */
  private readonly removals = new Map<ServerId, Removal>();
  private readonly drains = new Set<Promise<void>>();
  /** Applies and drain rounds take turns: a server revived by an apply is never deleted by a round already under way. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: RuntimeApi,
    private readonly log: Logger,
    private readonly drainTimeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Servers being drained by Aqueduct, as "backend/server". */
  draining(): ReadonlySet<string> {
    return new Set(this.removals.keys());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** Applies ops in order (see applyNow); throws the first refusal (HAProxy ran the rest of its batch too). */
  apply(ops: readonly RuntimeOp[]): Promise<ApplyOpsResult> {
    return this.exclusive(() => this.applyNow(ops));
  }

  /**
   * Without a routing map, one batch. With one, the maps' new versions are
   * filled in the batch of new servers and raised weights, and committed
   * (with the drains after them) only once HAProxy took every entry: a map
   * is never switched to a version missing the entry it refused.
   */
  private async applyNow(ops: readonly RuntimeOp[]): Promise<ApplyOpsResult> {
    const fill: RuntimeCommand[] = [];
    const commit: RuntimeCommand[] = [];
    const removed: ServerId[] = [];
    const versions = await this.prepareMaps(ops.filter((op): op is MapOp => op.op === 'set-map'));
    for (const op of ops) {
      if (op.op === 'set-map') {
        const map = mapCommands(op, versions.get(op.file) as number);
        fill.push(...map.fill);
        commit.push(map.commit);
      } else if (op.op === 'remove') {
        removed.push(serverId(op.backend, op.server));
        commit.push(...this.serverCommands(op));
      } else fill.push(...this.serverCommands(op));
    }
    const batches = versions.size > 0 ? [fill, commit] : [[...fill, ...commit]];
    for (const batch of batches) {
      const refused = refusal(batch, await this.api.commands(batch));
      if (refused !== undefined) throw refused;
    }
    if (removed.length > 0) this.drain(removed);
    return { applied: ops.length, commands: fill.length + commit.length };
  }

  /** A server op's commands; a server coming back while it drains is kept and its drain undone. */
  private serverCommands(op: ServerOp): RuntimeCommand[] {
    const id = serverId(op.backend, op.server);
    const pending = this.removals.get(id);
    if (op.op !== 'add' || pending === undefined) return commandsFor(op);
    pending.cancelled = true;
    this.removals.delete(id);
    const w = op.args.indexOf('weight');
    const weight = w === -1 ? '1' : (op.args[w + 1] ?? '1');
    return [setServerState(id, 'ready'), setWeight(id, weight)];
  }

  /** A new, empty version of each map, by file; throws when HAProxy makes none. */
  private async prepareMaps(ops: readonly MapOp[]): Promise<Map<string, number>> {
    if (ops.length === 0) return new Map();
    const prepares = ops.map((op) => prepareMap(op.file));
    const answers = await this.api.commands(prepares);
    const versions = new Map<string, number>();
    ops.forEach((op, i) => {
      const version = preparedVersion(answers[i] ?? '');
      if (version === undefined) throw new RuntimeCommandError(prepares[i]?.command ?? '', answers[i] ?? '');
      versions.set(op.file, version);
    });
    return versions;
  }

  /** Finishes removals in the background, batching the servers whose sessions are gone. */
  private drain(ids: readonly ServerId[]): void {
    let left: Removal[] = ids.map((id) => ({ id, cancelled: false }));
    for (const r of left) this.removals.set(r.id, r);
    const deadline = this.clock.now() + this.drainTimeoutMs;
    let roundsPastDeadline = 0;
    const done = (async () => {
      while ((left = left.filter((r) => !r.cancelled)).length > 0) {
        const expired = this.clock.now() >= deadline;
        if (expired && roundsPastDeadline++ > DELETE_ROUNDS_AFTER_TIMEOUT) break;
        const sessions = await this.api.sessions().catch(() => new Map<string, number>());
        const ready = left.filter((r) => expired || (sessions.get(r.id) ?? 0) === 0);
        if (ready.length > 0) {
          const deleted = await this.exclusive(() => this.finish(ready));
          left = left.filter((r) => !deleted.has(r));
        }
        if (left.length > 0) await this.clock.sleep(DRAIN_POLL_MS);
      }
      for (const r of left) {
        if (r.cancelled) continue;
        this.log.warn({ server: r.id }, 'server removal did not finish');
        this.forget(r);
      }
    })();
    this.drains.add(done);
    void done.finally(() => this.drains.delete(done));
  }

  /**
   * Deletes servers whose drain is over, in its turn between applies; those an
   * apply revived while this round looked at sessions (or waited for its
   * turn) are left alone. Returns the ones deleted.
   */
  private async finish(candidates: readonly Removal[]): Promise<Set<Removal>> {
    const ready = candidates.filter((r) => !r.cancelled);
    if (ready.length === 0) return new Set();
    const answers = await this.api.commands(ready.flatMap((r) => finishing(r.id))).catch(() => []);
    // A delete refused while closed sessions still hold the server is tried again next round.
    const deleted = new Set(ready.filter((_, i) => /^Server deleted|No such server/.test(answers[i * 3 + 2] ?? '')));
    for (const r of deleted) this.forget(r);
    return deleted;
  }

  private forget(r: Removal): void {
    if (this.removals.get(r.id) === r) this.removals.delete(r.id);
  }

  /** Forgets pending removals: after a reload the new workers never had those servers. */
  cancelAll(): void {
    for (const r of this.removals.values()) r.cancelled = true;
    this.removals.clear();
  }

  /** Waits for background removals (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.drains]);
  }
}
