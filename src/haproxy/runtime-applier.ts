// Applies planned runtime ops. Additions and weight changes take effect at
// once; a removal drains the server (no new traffic) and is finished in the
// background: maintenance, close what is left, delete, once its sessions are
// gone or the drain timeout passes.
import type { Logger } from 'pino';
import type { RuntimeOp } from '../core/plan.js';
import { commandsFor, type RuntimeApi } from './runtime-api.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ApplyOpsResult {
  applied: number;
  commands: number;
}

export class RuntimeApplier {
  /** backend/server → abort flag of its pending removal. */
  private readonly removals = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(
    private readonly api: RuntimeApi,
    private readonly log: Logger,
    private readonly drainTimeoutMs: number,
    /** Counts every runtime command by result (for metrics). */
    private readonly onCommand: (ok: boolean) => void = () => undefined,
  ) {}

  /** Servers being drained by Aqueduct, as "backend/server". */
  draining(): ReadonlySet<string> {
    return new Set(this.removals.keys());
  }

  private async send(command: string, ok?: RegExp): Promise<void> {
    try {
      await this.api.command(command, ok);
      this.onCommand(true);
    } catch (err) {
      this.onCommand(false);
      throw err;
    }
  }

  /** Applies ops in order; throws on the first command HAProxy refuses. */
  async apply(ops: readonly RuntimeOp[]): Promise<ApplyOpsResult> {
    let commands = 0;
    for (const op of ops) {
      const id = `${op.backend}/${op.server}`;
      const pending = this.removals.get(id);
      if (op.op === 'add' && pending !== undefined) {
        // Came back while draining: keep the server, undo the drain.
        pending.cancelled = true;
        this.removals.delete(id);
        await this.send(`set server ${id} state ready`);
        const w = op.args.indexOf('weight');
        if (w !== -1) await this.send(`set weight ${id} ${op.args[w + 1] ?? '1'}`);
        commands += 2;
        continue;
      }
      for (const c of commandsFor(op)) {
        await this.send(c.command, c.ok);
        commands++;
      }
      if (op.op === 'remove') this.finishRemoval(id);
    }
    return { applied: ops.length, commands };
  }

  private finishRemoval(id: string): void {
    const [backend = '', server = ''] = id.split('/');
    const entry = { cancelled: false, done: Promise.resolve() };
    entry.done = (async () => {
      const deadline = Date.now() + this.drainTimeoutMs;
      while (!entry.cancelled && Date.now() < deadline) {
        const sessions = await this.api.serverSessions(backend, server).catch(() => 0);
        if (sessions === 0) break;
        await sleep(200);
      }
      if (entry.cancelled) return;
      try {
        await this.send(`set server ${id} state maint`);
        await this.send(`shutdown sessions server ${id}`);
        for (let attempt = 0; ; attempt++) {
          try {
            await this.send(`del server ${id}`, /^Server deleted\.?$/);
            break;
          } catch (err) {
            if (attempt >= 20 || entry.cancelled) throw err;
            await sleep(100); // sessions being closed still hold it
          }
        }
        this.log.debug({ server: id }, 'server removed');
      } catch (err) {
        if (!entry.cancelled)
          this.log.warn({ server: id, err: (err as Error).message }, 'server removal did not finish');
      } finally {
        if (this.removals.get(id) === entry) this.removals.delete(id);
      }
    })();
    this.removals.set(id, entry);
  }

  /** Forgets pending removals: after a reload the new workers never had those servers. */
  cancelAll(): void {
    for (const entry of this.removals.values()) entry.cancelled = true;
    this.removals.clear();
  }

  /** Waits for background removals (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.removals.values()].map((r) => r.done));
  }
}
