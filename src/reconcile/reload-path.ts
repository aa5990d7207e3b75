// A reload: the candidate's certificates and config file installed, HAProxy
// reloaded, what it now serves recorded (generation, applied record) and
// compared (the drift check). A failed reload puts the last good file back
// and sets aside what HAProxy's message names, or waits and tries again.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AppliedRecord, ConfigStore } from '../core/config-store.js';
import { loadErrorsOf } from '../core/haproxy-output/check-errors.js';
import { sha256 } from '../core/hash.js';
import type { ApplyRecord } from '../core/planning/ledger.js';
import type { Plan } from '../core/planning/plan.js';
import type { HaproxyController } from '../haproxy/process.js';
import type { RuntimeApplier } from '../haproxy/runtime-applier.js';
import type { ApplyLedger } from './apply-ledger.js';
import type { BackgroundInstall } from './background-install.js';
import type { CertificateKeeper } from './certificates.js';
import type { DriftWatch } from './drift-watch.js';
import type { RefusalBook } from './refusal-book.js';
import {
  FAILED_RETRY_MS,
  listed,
  type Applied,
  type Candidate,
  type LoopState,
  type Outcome,
  type Run,
} from './run-types.js';

export interface ReloadPathDeps {
  store: ConfigStore;
  haproxy: HaproxyController;
  applier: RuntimeApplier;
  certificates: CertificateKeeper;
  clock: Clock;
  log: Logger;
}

export interface ReloadPathParts {
  state: LoopState;
  ledger: ApplyLedger;
  refusals: RefusalBook;
  installs: BackgroundInstall;
  drift: DriftWatch;
  /** A reload was spent from the budget. */
  spent(): void;
}

type RecordRun = (extra: Pick<ApplyRecord, 'result'> & Partial<ApplyRecord>) => ApplyRecord;

export class ReloadPath {
  constructor(
    private readonly deps: ReloadPathDeps,
    private readonly parts: ReloadPathParts,
  ) {}

  /** Installs the candidate and reloads HAProxy; a failed reload puts the last good file back. */
  async reload(c: Candidate, plan: Plan, run: Run): Promise<Outcome> {
    const { store } = this.deps;
    const { state, ledger } = this.parts;
    const record: RecordRun = (extra) =>
      ledger.record(run, { plan: 'reload', reasons: plan.reasons, commands: 0, ...extra });
    await this.parts.installs.flush(); // a background install must not land after this reload's file
    const previous = (await store.installed()) ?? state.applied?.config;
    try {
      await this.deps.certificates.writeAll(c.tls);
      await store.install(c.config);
    } catch (err) {
      // A full or read-only disk: nothing changed, HAProxy keeps serving; say so and try again later.
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const error = `cannot write ${store.where.config} (${code}); HAProxy keeps serving the previous config`;
      record({ result: 'failed', error });
      return { result: 'failed', work: { retryAfterMs: FAILED_RETRY_MS } };
    }
    const outcome = await this.deps.haproxy.reload();
    this.parts.spent();
    this.deps.applier.cancelAll();
    if (!outcome.ok) {
      // Put the last good file back, so a restart of HAProxy serves what was working.
      if (previous !== undefined) await store.install(previous);
      return this.failed(c, outcome.message, record);
    }
    const applied = await this.reloaded(c);
    await this.deps.certificates.reloaded(c.tls);
    const workerPid = outcome.workerPid;
    record({ result: 'ok', ...(workerPid !== undefined && { workerPid }), generation: applied.generation });
    // Follow-ups, not part of the apply, which HAProxy serves already: the drift check, and the record a
    // restart resumes from (~10 ms at 10,000 servers). The check starts in this same turn: who waits on the
    // apply's status (unresolved members) hears the record above and waits for it through afterDriftCheck.
    const drift = this.parts.drift.check();
    await this.persist(applied).catch((err: unknown) => this.wrote('the applied state', err, undefined));
    await drift;
    return { result: 'ok' };
  }

  /** Saves what is applied for a restart: the installed file must still hash to it. */
  async persist(applied: Applied): Promise<void> {
    const { config, state, manifests, generation } = applied;
    const data: AppliedRecord = { hash: sha256(config), state, manifests, generation };
    await this.deps.store.saveApplied(data);
  }

  /** HAProxy would not load the candidate: set aside the objects its message names, or wait and try again. */
  private failed(c: Candidate, message: string, record: RecordRun): Outcome {
    const { state, refusals } = this.parts;
    const errors = loadErrorsOf(message, this.deps.store.where.config);
    const setAside = refusals.setAsideFrom(c, errors, state.applied?.manifests, true);
    if (setAside.length > 0) {
      record({
        result: 'failed',
        error: `${message}; set aside ${listed(setAside)} (tried again later), the rest applies`,
      });
      return { result: 'failed', work: { retryAfterMs: 0 } };
    }
    state.failed = { hash: sha256(c.config), retryAt: this.deps.clock.now() + FAILED_RETRY_MS };
    record({ result: 'failed', error: `${message} (tried again in ${FAILED_RETRY_MS / 1000} s)` });
    return { result: 'failed', work: { retryAfterMs: FAILED_RETRY_MS } };
  }

  /** HAProxy serves the candidate now: a full disk may cost the history (and the restart record), never the apply. */
  private async reloaded(c: Candidate): Promise<Applied> {
    const { state } = this.parts;
    const next = (state.applied?.generation ?? 0) + 1;
    const generation = await this.deps.store.generations
      .record(c.config)
      .catch((err: unknown) => this.wrote('the generation history', err, next));
    state.applied = { config: c.config, state: c.state, manifests: c.manifests, generation };
    state.failed = undefined;
    state.forceReload = undefined;
    return state.applied;
  }

  /** Logs a state file that could not be written; returns `fallback`. */
  private wrote<T>(what: string, err: unknown, fallback: T): T {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const stateDir = this.deps.store.where.state;
    this.deps.log.warn({ err: code, stateDir }, `could not write ${what}; a restart may reload once`);
    return fallback;
  }
}
