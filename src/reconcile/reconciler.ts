// reconcile(): read every input, decide, apply. Level-triggered: it never
// looks at what changed, only at what is wanted and what is served, so
// running it twice in a row does nothing the second time.
//
// The loop's rooms: candidates.ts builds what to serve (and the API checks
// writes through it), refusal-book.ts keeps what HAProxy refused,
// apply-ledger.ts records every apply, background-install.ts writes the file
// of runtime changes, drift-watch.ts compares what HAProxy serves, and
// served-view.ts is what everyone reads. This file decides and carries out.
import { describeCheckErrors } from '../core/haproxy-output/check-errors.js';
import type { OwnAddresses } from '../core/manifests/bind.js';
import type { LoadedManifest } from '../core/manifests/model.js';
import {
  DEFAULT_RELOAD_BUDGET,
  initialBudget,
  reloaded,
  type ReloadBudgetOptions,
  type ReloadBudgetState,
} from '../core/planning/reload-budget.js';
import { decideApply, type ApplyDecision } from '../core/planning/apply-decision.js';
import { sha256 } from '../core/hash.js';
import type { ConfigStore } from '../core/config-store.js';
import { planner, withDesiredServers, type Plan } from '../core/planning/plan.js';
import type { DesiredState } from '../core/rendering/desired-state.js';
import { renderConfig, type RenderOptions } from '../core/rendering/render.js';
import type { CheckResult } from '../haproxy/check.js';
import type { HaproxyController } from '../haproxy/process.js';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import type { RuntimeApplier } from '../haproxy/runtime-applier.js';
import type { Clock } from '../clock.js';
import type { WorkResult } from './work-queue.js';
import type { Rotation } from './certificates.js';
import type { ApplyRecord } from '../core/planning/ledger.js';
import type { DriftCheck } from '../core/manifests/api-shapes.js';
import { ApplyLedger, type LedgerEntry } from './apply-ledger.js';
import { BackgroundInstall } from './background-install.js';
import { Candidates, type CandidatesDeps } from './candidates.js';
import { DriftWatch } from './drift-watch.js';
import { IssueReport } from './issue-report.js';
import { RefusalBook } from './refusal-book.js';
import { ReloadPath } from './reload-path.js';
import { ServedView } from './served-view.js';
import {
  DEPLOY_TICK_MS,
  FAILED_RETRY_MS,
  listed,
  QUIET_TRIGGERS,
  sameManifests,
  sourceLookup,
  withNotes,
  type Applied,
  type Candidate,
  type LoopState,
  type Outcome,
  type ReconcileResult,
  type Run,
} from './run-types.js';

export type { ApplyRecord, ApplyResult } from '../core/planning/ledger.js';
export type { CandidateCheck, ReconcileResult } from './run-types.js';

/** What the loop is given: what building candidates needs (candidates.ts), and what carrying them out needs. */
export interface ReconcilerDeps extends CandidatesDeps {
  /** haproxy -c on config text; `scratch` names the file it is written to, one per caller so checks never share one. */
  check(configText: string, scratch: 'candidate' | 'install'): Promise<CheckResult>;
  haproxy: HaproxyController;
  /** The config file, what was applied, and the generation history. */
  store: ConfigStore;
  runtime: RuntimeApi;
  applier: RuntimeApplier;
  clock: Clock;
}

export interface ReconcilerOptions {
  template: string;
  render: RenderOptions;
  /** One reload token every this many ms (--minReloadInterval). */
  minReloadIntervalMs: number;
  /** Reloads that may follow each other at once (--reloadBurst). */
  reloadBurst?: number;
  /** --allowUnsafeNatives: natives may open sections, run programs and load code. */
  allowUnsafeNatives?: boolean;
  /** What Aqueduct owns (its API, the stats page, the registry): no frontend may bind it, no member point at it. */
  own?: OwnAddresses;
}

export class Reconciler {
  /** What the rooms share: what is served, a config that failed, a reload owed. */
  private readonly state: LoopState = {};
  private budget: ReloadBudgetState | undefined;
  private runListeners: ((result: ReconcileResult, seconds: number) => void)[] = [];
  private readonly plan = planner();
  private readonly ledger: ApplyLedger;
  private readonly refusals: RefusalBook;
  private readonly installs: BackgroundInstall;
  private readonly drift: DriftWatch;
  private readonly reloads: ReloadPath;
  /** What to serve from every input; the API checks and previews writes here. */
  readonly candidates: Candidates;
  /** What HAProxy serves and why, for main, the metrics and the API. */
  readonly served: ServedView;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly opts: ReconcilerOptions,
  ) {
    const { clock, log } = deps;
    this.ledger = new ApplyLedger({ clock, log });
    this.refusals = new RefusalBook(clock);
    const issues = new IssueReport(log);
    this.installs = new BackgroundInstall({
      check: (text) => deps.check(text, 'install'),
      store: deps.store,
      persist: (a) => this.reloads.persist(a),
      refused: (reason) => (this.state.forceReload = reason),
      log,
    });
    this.drift = new DriftWatch(deps, this.state);
    const { ledger, refusals, installs, drift } = this;
    const spent = () => (this.budget = reloaded(this.reloadBudget(), this.budgetOptions(), clock.now()));
    this.reloads = new ReloadPath(deps, { state: this.state, ledger, refusals, installs, drift, spent });
    const parts = { state: this.state, refusals: this.refusals, issues };
    this.candidates = new Candidates(deps, opts, parts);
    this.served = new ServedView({ ...parts, ledger, drift, candidates: this.candidates, ...deps });
    deps.deploys.onEvent((e) => {
      if (e.type === 'gate' && e.event === 'timed-out') this.event('health-gate-timeout', 'runtime', e.message);
    });
  }

  /** Picks up what a previous run applied, when the installed file is still that config. */
  async resume(): Promise<void> {
    await this.deps.deploys.load();
    const record = await this.deps.store.loadApplied();
    const installed = await this.deps.store.installed();
    if (record !== undefined && installed !== undefined && sha256(installed) === record.hash) {
      const { state, manifests, generation } = record;
      this.state.applied = { config: installed, state, manifests, generation };
      this.deps.log.info({ generation: record.generation }, 'resumed the last applied config');
    }
  }

  /** Calls listener after every run with how it ended (the metrics count runs by result) and its seconds. */
  onReconciled(listener: (result: ReconcileResult, seconds: number) => void): void {
    this.runListeners.push(listener);
  }

  /** Calls listener with every new ledger entry; returns a function that stops it. */
  onApply(listener: (r: ApplyRecord) => void): () => void {
    return this.ledger.onApply(listener);
  }

  /** Calls listener after every drift check (the metrics count them by result). */
  onDriftCheck(listener: (c: DriftCheck) => void): void {
    this.drift.onCheck(listener);
  }

  /** Resolves once background installs are done (tests, shutdown). */
  settled(): Promise<void> {
    return this.installs.settled();
  }

  /** HAProxy exited outside a reload: a failed entry in the ledger, so status and metrics say so. */
  noteHaproxyExit(message: string): void {
    this.event('haproxy-exited', 'reload', message, 'haproxy-exited');
  }

  /** A failed ledger entry for an event rather than an apply. */
  private event(event: LedgerEntry['event'], plan: Plan['kind'], message: string, trigger = 'tick'): void {
    const entry = { triggers: [trigger], plan, reasons: [message], commands: 0, durationMs: 0 };
    this.ledger.append({ event, ...entry, result: 'failed', error: message });
  }

  private budgetOptions(): ReloadBudgetOptions {
    const burst = this.opts.reloadBurst ?? DEFAULT_RELOAD_BUDGET.burst;
    return { ...DEFAULT_RELOAD_BUDGET, burst, refillMs: this.opts.minReloadIntervalMs };
  }

  private reloadBudget(): ReloadBudgetState {
    this.budget ??= initialBudget(this.budgetOptions(), this.deps.clock.now());
    return this.budget;
  }

  /**
   * One reconcile. Triggers say why it runs ("watch", "resync", "registry",
   * ...). While a rollout or a gated switch is under way it asks to be run
   * again shortly, since those move with time and HAProxy's counters.
   */
  async reconcile(triggers: string[], lastTriggerAt?: number): Promise<WorkResult | undefined> {
    const { clock } = this.deps;
    const started = clock.now();
    const tell = (result: ReconcileResult) => {
      for (const l of this.runListeners) l(result, (clock.now() - started) / 1000);
    };
    let outcome: Outcome;
    try {
      outcome = await this.reconcileOnce(triggers, lastTriggerAt ?? started);
    } catch (err) {
      tell('error');
      throw err;
    }
    tell(outcome.result);
    const result = outcome.work;
    if (!this.deps.deploys.active()) return result;
    if (result?.retryAfterMs !== undefined && result.retryAfterMs <= DEPLOY_TICK_MS) return result;
    return { retryAfterMs: DEPLOY_TICK_MS, trigger: 'tick' };
  }

  /** Reads every input, decides, and carries the decision out. */
  private async reconcileOnce(triggers: string[], lastTriggerAt: number): Promise<Outcome> {
    const run: Run = { triggers, started: this.deps.clock.now() };
    const c = await this.candidates.prepare();
    await this.deps.certificates.stage(c.tls);
    const hash = sha256(c.config);
    const { applied, forceReload, failed } = this.state;
    const { decision, budget } = decideApply({
      plan: withNotes(this.plan(applied?.config, c.config), c.notes),
      running: await this.deps.haproxy.running(),
      hasApplied: applied !== undefined,
      forceReload,
      failed,
      hash,
      now: this.deps.clock.now(),
      lastTriggerAt,
      budget: this.reloadBudget(),
      budgetOptions: this.budgetOptions(),
    });
    this.budget = budget;
    // A reload loads every certificate file; otherwise renewals go through the runtime API first, so
    // whoever waits on this run's ledger entry sees them served.
    if (decision.kind !== 'reload' && !(await this.rotateCertificates(c, run)))
      return { result: 'failed', work: { retryAfterMs: 0 } };
    const outcome = await this.execute(decision, c, hash, run);
    const served = this.state.applied?.state.frontends ?? [];
    this.deps.certificates.orderDue(
      c.tls,
      served.some((f) => f.mode === 'http' && f.tls === undefined),
    );
    return outcome;
  }

  /** Serves renewed certificates without a reload; false when HAProxy refused, and the next run reloads. */
  private async rotateCertificates(c: Candidate, run: Run): Promise<boolean> {
    let rotations: Rotation[];
    const entry = { event: 'certificate-rotated', plan: 'runtime' } as const;
    try {
      rotations = await this.deps.certificates.rotate(c.tls);
    } catch (err) {
      const error = `a certificate could not be replaced at runtime: ${(err as Error).message}`;
      this.state.forceReload = error;
      this.ledger.record(run, { ...entry, reasons: [], commands: 0, result: 'failed', error });
      return false;
    }
    if (rotations.length === 0) return true;
    const reasons = rotations.map(
      (r) =>
        `certificate ${r.certificate} ${r.how === 'replaced' ? 'renewed in the running worker' : 'written (no frontend loads it)'}${r.fingerprint === null ? '' : ` (SHA-256 ${r.fingerprint})`}`,
    );
    const commands = rotations.filter((r) => r.how === 'replaced').length * 2;
    this.ledger.record(run, { ...entry, reasons, commands, result: 'ok' });
    return true;
  }

  /** Carries out one decision; every kind is handled (the compiler checks). */
  private async execute(decision: ApplyDecision, c: Candidate, hash: string, run: Run): Promise<Outcome> {
    switch (decision.kind) {
      case 'noop':
        return this.noop(c, decision.plan, run);
      case 'hold':
        return { result: 'noop', work: { retryAfterMs: decision.retryAfterMs } };
      case 'defer':
        return this.defer(c, decision.plan, run, decision.waitMs);
      case 'runtime':
        return this.runtime(c, decision.plan, hash, run);
      case 'reload':
        return this.checkAndReload(c, decision.plan, hash, run);
    }
  }

  /** Servers through the runtime API; a refused command leaves the state unknown, so a reload converges it. */
  private async runtime(c: Candidate, plan: Extract<Plan, { kind: 'runtime' }>, hash: string, run: Run) {
    try {
      const commands = await this.applyRuntime(plan, c.config, c.state, c.manifests);
      this.state.failed = undefined;
      const generation = this.state.applied?.generation;
      this.ledger.record(run, { plan: 'runtime', reasons: plan.reasons, commands, result: 'ok', generation });
      return { result: 'ok' } as const;
    } catch (err) {
      const reasons = [...plan.reasons, `runtime API failed: ${(err as Error).message}`];
      return this.checkAndReload(c, { kind: 'reload', reasons }, hash, run);
    }
  }

  private async checkAndReload(c: Candidate, plan: Plan, hash: string, run: Run): Promise<Outcome> {
    const check = await this.deps.check(c.config, 'candidate');
    if (!check.ok) return this.reject(c, plan, check, hash, run);
    return this.reloads.reload(c, plan, run);
  }

  /** Nothing to change in HAProxy; the manifests behind it may still be new (a rollout removed, a label added). */
  private async noop(c: Candidate, plan: Plan, run: Run): Promise<Outcome> {
    const applied = this.state.applied;
    if (applied !== undefined && !sameManifests(applied.manifests, c.manifests)) {
      this.state.applied = { ...applied, manifests: c.manifests };
      await this.reloads.persist(this.state.applied);
    }
    // Periodic and follow-up looks that find nothing to do are not worth a ledger entry.
    const recorded = run.triggers.some((t) => !QUIET_TRIGGERS.has(t)) || c.notes.length > 0;
    if (recorded) this.ledger.record(run, { plan: 'noop', reasons: plan.reasons, commands: 0, result: 'ok' });
    else this.deps.log.debug({ triggers: run.triggers }, 'looked: nothing to change');
    const result = recorded ? 'ok' : 'noop';
    if (run.triggers.includes('resync')) {
      await this.drift.check();
      if (this.state.forceReload !== undefined) return { result, work: { retryAfterMs: 0 } };
    }
    return { result };
  }

  /** The reload budget says wait: member changes go through the runtime API now, the rest after the wait. */
  private async defer(c: Candidate, plan: Plan, run: Run, wait: number): Promise<Outcome> {
    const applied = this.state.applied as Applied;
    const partial = withDesiredServers(applied.state, c.state);
    const partialConfig = renderConfig(this.opts.template, partial, this.opts.render);
    const partialPlan = this.plan(applied.config, partialConfig);
    const commands =
      partialPlan.kind === 'runtime'
        ? await this.applyRuntime(partialPlan, partialConfig, partial, applied.manifests)
        : 0;
    const reasons = [...plan.reasons, `waiting ${wait} ms for the reload budget`];
    this.ledger.record(run, { plan: 'reload', reasons, commands, result: 'deferred' });
    return { result: 'deferred', work: { retryAfterMs: wait } };
  }

  /** haproxy -c refused the candidate: set its culprits aside and run again, or keep serving and wait. */
  private reject(c: Candidate, plan: Plan, check: CheckResult, hash: string, run: Run): Outcome {
    const error = describeCheckErrors(c.config, check.errors, sourceLookup(c.manifests)).join('; ');
    const setAside = this.refusals.setAsideFrom(c, check.errors, this.state.applied?.manifests, false);
    // Level-triggered: with the culprits set aside, the next run serves everything else.
    if (setAside.length === 0) this.state.failed = { hash, retryAt: this.deps.clock.now() + FAILED_RETRY_MS };
    this.ledger.record(run, {
      plan: 'reload',
      reasons: plan.reasons,
      commands: 0,
      result: 'rejected',
      error:
        setAside.length > 0
          ? `haproxy -c refused the candidate; set aside ${listed(setAside)} (its last good version, if any, keeps serving) and the rest applies: ${error}`
          : `haproxy -c refused the candidate, the serving config is unchanged: ${error}`,
    });
    return { result: 'rejected', ...(setAside.length > 0 && { work: { retryAfterMs: 0 } }) };
  }

  /** Runtime ops now; the file that records them is checked and installed in the background (background-install.ts). */
  private async applyRuntime(
    plan: Extract<Plan, { kind: 'runtime' }>,
    config: string,
    state: DesiredState,
    manifests: LoadedManifest[],
  ): Promise<number> {
    const result = await this.deps.applier.apply(plan.ops);
    // Numbered now, so the ledger names it; its file is written with the background install.
    const fallback = this.state.applied?.generation ?? 0;
    const generation = await this.deps.store.generations.allocate().catch(() => fallback);
    this.state.applied = { config, state, manifests, generation };
    this.installs.schedule(this.state.applied);
    return result.commands;
  }
}
