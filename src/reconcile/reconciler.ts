// reconcile(): read every input, decide, apply. Level-triggered: it never
// looks at what changed, only at what is wanted and what is served, so
// running it twice in a row does nothing the second time.
import { configDiff, type ConfigDiff } from '../core/planning/config-diff.js';
import type { Logger } from 'pino';
import { manifestGeneration } from '../core/manifests/identity.js';
import { culpritsOf, describeCheckErrors, loadErrorsOf, type ObjectRef } from '../core/haproxy-output/check-errors.js';
import { buildDesiredState, type DesiredState } from '../core/rendering/desired-state.js';
import { detectDrift } from '../core/planning/drift.js';
import { holdEmptySwitches, type EmptyHold } from '../core/deploy/empty-hold.js';
import { unresolved, type ServerState } from '../core/haproxy-output/runtime-output.js';
import { formatIssue, type Issue } from '../core/issues.js';
import {
  objectKey,
  sameManifest,
  selectServable,
  withRefusals,
  type Refusal,
  type ServableSet,
  type StaleObject,
} from '../core/manifests/last-good.js';
import type { LocatedManifest, ManifestFile } from '../core/manifests/manifests.js';
import type { OwnAddresses } from '../core/manifests/bind.js';
import type { DriftCheck } from '../core/manifests/api-shapes.js';
import { applyNativesPolicy } from '../core/manifests/natives-policy.js';
import {
  DEFAULT_RELOAD_BUDGET,
  initialBudget,
  reloaded,
  type ReloadBudgetOptions,
  type ReloadBudgetState,
} from '../core/planning/reload-budget.js';
import { decideApply, type ApplyDecision } from '../core/planning/apply-decision.js';
import { sha256 } from '../core/hash.js';
import type { AppliedRecord, ConfigStore } from '../core/config-store.js';
import { ParseCache } from '../core/manifests/parse-cache.js';
import type { BackendManifest, LoadedManifest, MemberMap } from '../core/manifests/model.js';
import { planner, withDesiredServers, type Plan } from '../core/planning/plan.js';
import { renderConfig, type RenderOptions } from '../core/rendering/render.js';
import type { CheckResult } from '../haproxy/check.js';
import type { HaproxyController } from '../haproxy/process.js';
import type { RuntimeApi } from '../haproxy/runtime-api.js';
import type { RuntimeApplier } from '../haproxy/runtime-applier.js';
import type { Clock } from '../clock.js';
import type { Deploys } from './deploys.js';
import type { WorkResult } from './work-queue.js';
import type { CertificateKeeper, Rotation, TlsCandidate } from './certificates.js';
import type { CertificateState } from '../core/tls/certificate-state.js';
import type { ApplyRecord, ApplyResult } from '../core/planning/ledger.js';

export type { ApplyRecord, ApplyResult } from '../core/planning/ledger.js';

export interface ReconcilerDeps {
  readManifests(): Promise<ManifestFile[]>;
  /** Members of these backends' dynamic ones right now (registry snapshot). */
  members(backends: readonly BackendManifest[]): MemberMap;
  /** The subscriptions of a dynamic backend's split with no instances now, as name@version. */
  emptySubscriptions(backend: BackendManifest): string[];
  /** haproxy -c on config text; `scratch` names the file it is written to, one per caller so checks never share one. */
  check(configText: string, scratch: 'candidate' | 'install'): Promise<CheckResult>;
  haproxy: HaproxyController;
  /** The config file, what was applied, and the generation history. */
  store: ConfigStore;
  runtime: RuntimeApi;
  applier: RuntimeApplier;
  /** Rollout positions and health gates. */
  deploys: Deploys;
  /** Certificates: their files, and renewals through the runtime API. */
  certificates: CertificateKeeper;
  clock: Clock;
  log: Logger;
}

/** How one run ended: the result of the ledger entry it made, noop when it made none, error when it threw. */
export type ReconcileResult = ApplyResult | 'noop' | 'error';

/** What one run did, and what it asks of the queue (run again after a while). */
interface Outcome {
  result: ApplyResult | 'noop';
  work?: WorkResult;
}

/** One run: why it runs, and since when (for the ledger's durations). */
interface Run {
  triggers: string[];
  started: number;
}

/** haproxy -c on what a read of the manifests would serve: ok, or HAProxy's complaints and the objects they name. */
export type CandidateCheck =
  { ok: true } | { ok: false; complaints: { culprits: ObjectRef[]; message: string }[]; error: string };

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

interface Applied {
  config: string;
  state: DesiredState;
  manifests: LoadedManifest[];
  generation: number;
}

/** One run's candidate: what was declared, what would be served, rendered, and what moved in deploys. */
interface Candidate {
  declared: { manifests: LocatedManifest[]; issues: Issue[] };
  manifests: LoadedManifest[];
  state: DesiredState;
  config: string;
  notes: string[];
  tls: TlsCandidate;
}

const LEDGER_SIZE = 200;
const MAX_REASONS = 20;
const FAILED_RETRY_MS = 30_000;
/** A list for a message: a refusal of a thousand objects must not become a megabyte of log. */
function listed(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** An object that failed to load (a busy port, a limit) is tried again after this, doubling up to the cap. */
const LOAD_RETRY_MS = 30_000;
const LOAD_RETRY_CAP_MS = 300_000;
/** How often a rollout in progress or a switch waiting for a health check is looked at again. */
const DEPLOY_TICK_MS = 1000;
/** Triggers that find nothing to do without being worth a ledger entry. */
const QUIET_TRIGGERS = new Set(['resync', 'watch-settle', 'tick', 'certificate-file', 'acme']);

const sameManifests = (a: readonly LoadedManifest[], b: readonly LoadedManifest[]): boolean =>
  a.length === b.length && a.every((m, i) => sameManifest(m, b[i] as LoadedManifest));

/** The plan with what moved in rollouts and gates in front of its reasons. */
const withNotes = (plan: Plan, notes: readonly string[]): Plan =>
  notes.length === 0 ? plan : { ...plan, reasons: [...notes, ...plan.reasons] };

/** The file that declared an object, for HAProxy's complaints about its section. */
const sourceLookup =
  (manifests: readonly LoadedManifest[]) =>
  (kind: 'Frontend' | 'Backend', name: string): string | undefined =>
    manifests.find((m) => m.manifest.kind === kind && m.manifest.metadata.name === name)?.source.file;

export class Reconciler {
  private applied: Applied | undefined;
  private budget: ReloadBudgetState | undefined;
  private failed: { hash: string; retryAt: number } | undefined;
  private forceReload: string | undefined;
  private records: ApplyRecord[] = [];
  /** The applied config's hash, computed once per config rather than per scrape. */
  private hashOf: { config: string; hash: string } | undefined;
  private nextId = 1;
  private issues: Issue[] = [];
  private stale: StaleObject[] = [];
  private reportedIssues = '';
  private listeners: ((r: ApplyRecord) => void)[] = [];
  private runListeners: ((result: ReconcileResult, seconds: number) => void)[] = [];
  private readonly parsed = new ParseCache();
  private readonly plan = planner();
  /** Objects HAProxy refused, set aside until edited (or, for load failures, until retryAt). */
  private refusals = new Map<string, Refusal & { retryAt?: number; backoffMs?: number }>();

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly opts: ReconcilerOptions,
  ) {
    deps.deploys.onEvent((e) => {
      if (e.type === 'gate' && e.event === 'timed-out')
        this.append({
          event: 'health-gate-timeout',
          triggers: ['tick'],
          plan: 'runtime',
          reasons: [e.message],
          commands: 0,
          durationMs: 0,
          result: 'failed',
          error: e.message,
        });
    });
  }

  /** Picks up what a previous run applied, when the installed file is still that config. */
  async resume(): Promise<void> {
    await this.deps.deploys.load();
    const record = await this.deps.store.loadApplied();
    const installed = await this.deps.store.installed();
    if (record !== undefined && installed !== undefined && sha256(installed) === record.hash) {
      this.applied = {
        config: installed,
        state: record.state,
        manifests: record.manifests,
        generation: record.generation,
      };
      this.deps.log.info({ generation: record.generation }, 'resumed the last applied config');
    }
  }

  /** Calls listener after every run with how it ended (the metrics count runs by result) and its seconds. */
  onReconciled(listener: (result: ReconcileResult, seconds: number) => void): void {
    this.runListeners.push(listener);
  }

  /** Calls listener with every new ledger entry; returns a function that stops it. */
  onApply(listener: (r: ApplyRecord) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** The manifests HAProxy serves now (the last applied set). */
  appliedManifests(): readonly LoadedManifest[] {
    return this.applied?.manifests ?? [];
  }

  /**
   * What applying these manifest files instead of the directory would do to
   * HAProxy: rendered as the loop would (same options, members, natives
   * policy, last good versions for invalid objects), planned against what is
   * served. Changes nothing.
   */
  preview(read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] }): ConfigDiff {
    const servable = this.servableOf(read);
    const { state } = this.desiredFrom(servable);
    const candidate = renderConfig(this.opts.template, state, this.opts.render);
    return configDiff(this.applied?.config, candidate, servable.issues);
  }

  /**
   * What reconcile would serve for this read of the manifests, rendered and
   * put to `check` (haproxy -c): lets writers refuse changes before they
   * reach the directory. On a refusal, each of HAProxy's complaints with the
   * objects its line falls in (none when it names no line) and its words
   * mapped to their files.
   */
  async checkCandidate(
    read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] },
    check: (configText: string) => Promise<CheckResult>,
  ): Promise<CandidateCheck> {
    const servable = this.servableOf(read);
    const { manifests, state } = this.desiredFrom(servable);
    const candidate = renderConfig(this.opts.template, state, this.opts.render);
    // haproxy -c loads the certificates: a new one's files must exist (existing ones are left as served).
    const certificates = servable.certificates.map((m) => m.manifest);
    await this.deps.certificates.stage(await this.deps.certificates.resolve(certificates, state.frontends, false));
    const result = await check(candidate);
    if (result.ok) return { ok: true };
    const lookup = sourceLookup(manifests);
    const complaints = result.errors
      .map((e) => ({ culprits: culpritsOf(candidate, [e]), message: describeCheckErrors(candidate, [e], lookup) }))
      .filter((c) => c.message.length > 0)
      .map((c) => ({ culprits: c.culprits, message: c.message.join('; ') }));
    return { ok: false, complaints, error: describeCheckErrors(candidate, result.errors, lookup).join('; ') };
  }

  private budgetOptions(): ReloadBudgetOptions {
    return {
      ...DEFAULT_RELOAD_BUDGET,
      burst: this.opts.reloadBurst ?? DEFAULT_RELOAD_BUDGET.burst,
      refillMs: this.opts.minReloadIntervalMs,
    };
  }

  private reloadBudget(): ReloadBudgetState {
    this.budget ??= initialBudget(this.budgetOptions(), this.deps.clock.now());
    return this.budget;
  }

  /** Objects set aside because HAProxy refused them, with its words. */
  refused(): Refusal[] {
    return [...this.refusals.values()].map(({ kind, name, generation, error }) => ({ kind, name, generation, error }));
  }

  /**
   * What may be served from a read of the manifests: unsafe natives and
   * refused objects set aside (load failures whose retry time came are tried
   * again), each broken object on its last good version. The loop, the API's
   * pre-write check and the API's status all choose through this one place.
   */
  servableOf(read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] }): ServableSet {
    const now = this.deps.clock.now();
    const active = [...this.refusals.values()].filter((r) => r.retryAt === undefined || r.retryAt > now);
    const policed = applyNativesPolicy(read, this.opts.allowUnsafeNatives === true);
    return selectServable(
      withRefusals(policed, active, manifestGeneration),
      this.applied?.manifests ?? [],
      this.opts.own,
    );
  }

  /**
   * Sets aside the objects HAProxy's complaints point at (their declared
   * version, when that is what was served); where no complaint names an
   * object's line, the objects this apply changed. Returns what it set aside.
   */
  private setAside(
    config: string,
    errors: readonly { line?: number; message: string }[],
    served: readonly LoadedManifest[],
    read: { manifests: readonly LocatedManifest[] },
    loadFailure: boolean,
  ): string[] {
    const byKey = (list: readonly LoadedManifest[]) =>
      new Map(list.map((m) => [objectKey(m.manifest.kind, m.manifest.metadata.name), m]));
    const servedBy = byKey(served);
    const declaredBy = byKey(read.manifests);
    const appliedBy = byKey(this.applied?.manifests ?? []);
    let keys = culpritsOf(config, errors).map((c) => objectKey(c.kind, c.name));
    if (keys.length === 0 && this.applied !== undefined) {
      const changed = (k: string, m: LoadedManifest) => {
        const before = appliedBy.get(k);
        return before === undefined || !sameManifest(before, m);
      };
      keys = [...servedBy].filter(([k, m]) => changed(k, m)).map(([k]) => k);
    }
    const now = this.deps.clock.now();
    const setAside: string[] = [];
    for (const key of keys) {
      const declared = declaredBy.get(key);
      const s = servedBy.get(key);
      if (declared === undefined || s === undefined || !sameManifest(declared, s)) continue;
      const generation = manifestGeneration(declared.manifest);
      const { kind, metadata } = declared.manifest;
      const error = describeCheckErrors(config, errors, sourceLookup(served)).join('; ');
      const previous = this.refusals.get(key);
      const backoffMs = loadFailure
        ? Math.min((previous?.backoffMs ?? LOAD_RETRY_MS / 2) * 2, LOAD_RETRY_CAP_MS)
        : undefined;
      this.refusals.set(key, {
        kind,
        name: metadata.name,
        generation,
        error,
        ...(backoffMs !== undefined && { backoffMs, retryAt: now + backoffMs }),
      });
      setAside.push(`${declared.source.file} ${key}`);
    }
    return setAside;
  }

  private desiredFrom(servable: ServableSet): { manifests: LoadedManifest[]; state: DesiredState } {
    const manifests: LoadedManifest[] = [...servable.frontends, ...servable.backends, ...servable.certificates].map(
      (m) => ({
        manifest: m.manifest,
        source: m.source,
      }),
    );
    const state = buildDesiredState(
      servable.frontends.map((f) => f.manifest),
      servable.backends.map((b) => b.manifest),
      this.deps.members(servable.backends.map((b) => b.manifest)),
    );
    return { manifests, state };
  }

  /** HAProxy exited outside a reload: a failed entry in the ledger, so status and metrics say so. */
  noteHaproxyExit(message: string): void {
    this.append({
      event: 'haproxy-exited',
      triggers: ['haproxy-exited'],
      plan: 'reload',
      reasons: [message],
      commands: 0,
      durationMs: 0,
      result: 'failed',
      error: message,
    });
  }

  deployStatus(backend: string) {
    const rollout = this.deps.deploys.positionOf(backend);
    const healthGate = this.deps.deploys.gateOf(backend);
    const held = this.holds.get(backend)?.message;
    const unresolved = this.unresolvedOf(backend);
    return {
      ...(rollout && { rollout }),
      ...(healthGate && { healthGate }),
      ...(held !== undefined && { held }),
      ...(unresolved !== undefined && { unresolved }),
    };
  }

  ledger(): readonly ApplyRecord[] {
    return this.records;
  }

  status() {
    return {
      ready: this.applied !== undefined,
      generation: this.applied?.generation,
      issues: this.issues,
      stale: this.stale,
      lastApply: this.records[this.records.length - 1],
      ...(this.lastDriftCheck !== undefined && { driftCheck: this.lastDriftCheck }),
    };
  }

  /** Servers per backend in the served config. */
  appliedMembers(): Record<string, number> {
    return Object.fromEntries((this.applied?.state.backends ?? []).map((b) => [b.name, b.servers.length]));
  }

  appliedConfig(): string | undefined {
    return this.applied?.config;
  }

  /** The config of an applied generation, while the history keeps it (--keepGenerations). */
  generationConfig(seq: number): Promise<string | undefined> {
    return this.deps.store.generations.read(seq);
  }

  /** Frontends HAProxy serves now, with their binds. */
  appliedFrontends(): { name: string; binds: readonly string[] }[] {
    return (this.applied?.state.frontends ?? []).map((f) => ({ name: f.name, binds: f.binds }));
  }

  /** The served generation and its config's hash (for metrics and fleet comparison). */
  appliedIdentity(): { generation: number; hash: string } | undefined {
    const a = this.applied;
    if (a === undefined) return undefined;
    if (this.hashOf?.config !== a.config) this.hashOf = { config: a.config, hash: sha256(a.config).slice(0, 12) };
    return { generation: a.generation, hash: this.hashOf.hash };
  }

  /** A ledger entry for this run: its triggers and its duration so far. */
  private record(run: Run, r: Omit<ApplyRecord, 'id' | 'at' | 'triggers' | 'durationMs'>): ApplyRecord {
    return this.append({ triggers: run.triggers, durationMs: this.deps.clock.now() - run.started, ...r });
  }

  private append(r: Omit<ApplyRecord, 'id' | 'at'>): ApplyRecord {
    // A first apply of 1,000 backends has 1,000 reasons: keep the ledger and the log line readable.
    const reasons =
      r.reasons.length <= MAX_REASONS
        ? r.reasons
        : [...r.reasons.slice(0, MAX_REASONS - 1), `and ${r.reasons.length - MAX_REASONS + 1} more`];
    const full: ApplyRecord = {
      id: this.nextId++,
      at: new Date(this.deps.clock.now()).toISOString(),
      ...r,
      reasons,
    };
    this.records.push(full);
    if (this.records.length > LEDGER_SIZE) this.records.shift();
    const log = this.deps.log;
    const { id: apply, at: _at, error: _error, ...rest } = full;
    const fields = { apply, ...rest };
    if (full.result === 'ok' || full.result === 'deferred') log.info(fields, `apply ${full.plan}: ${full.result}`);
    else log.error({ ...fields, error: full.error }, `apply ${full.plan}: ${full.result}`);
    for (const l of this.listeners) l(full);
    return full;
  }

  private reportIssues(issues: Issue[], stale: StaleObject[]): void {
    this.issues = issues;
    this.stale = stale;
    const text = issues.map(formatIssue).join('\n');
    if (text === this.reportedIssues) return; // report each new set of problems once, not every resync
    this.reportedIssues = text;
    if (issues.length === 0) {
      this.deps.log.info('all manifests are valid');
      return;
    }
    for (const issue of issues) this.deps.log.warn({ issue }, formatIssue(issue));
    for (const s of stale)
      this.deps.log.warn({ object: `${s.kind}/${s.name}` }, `serving the last good ${s.kind}/${s.name}: ${s.reason}`);
  }

  /** Says once per file that an emptied file is taken for one being written. */
  private reportHeld(files: readonly string[]): void {
    for (const file of files)
      if (!this.heldReported.has(file))
        this.deps.log.warn(
          { file },
          `${file} is empty: taken for a file being written, its objects keep serving; delete the file to delete them`,
        );
    this.heldReported = new Set(files);
  }

  private heldReported = new Set<string>();
  private lastDeclared: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] } = {
    manifests: [],
    issues: [],
  };

  /** The manifests as the last run read them (the metrics count objects from it, without reading again). */
  lastRead(): { manifests: readonly LocatedManifest[]; issues: readonly Issue[] } {
    return this.lastDeclared;
  }

  /** Logs a state file that could not be written; returns `fallback`. */
  private wrote<T>(what: string, err: unknown, fallback: T): T {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    this.deps.log.warn(
      { err: code, stateDir: this.deps.store.where.state },
      `could not write ${what}; a restart may reload once`,
    );
    return fallback;
  }

  private async persist(applied: Applied): Promise<void> {
    const data: AppliedRecord = {
      hash: sha256(applied.config),
      state: applied.state,
      manifests: applied.manifests,
      generation: applied.generation,
    };
    await this.deps.store.saveApplied(data);
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
    const c = await this.prepare();
    await this.deps.certificates.stage(c.tls);
    const hash = sha256(c.config);
    const { decision, budget } = decideApply({
      plan: withNotes(this.plan(this.applied?.config, c.config), c.notes),
      running: await this.deps.haproxy.running(),
      hasApplied: this.applied !== undefined,
      forceReload: this.forceReload,
      failed: this.failed,
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
    const served = this.applied?.state.frontends ?? [];
    this.deps.certificates.orderDue(
      c.tls,
      served.some((f) => f.mode === 'http' && f.tls === undefined),
    );
    return outcome;
  }

  /** Serves renewed certificates without a reload; false when HAProxy refused, and the next run reloads. */
  private async rotateCertificates(c: Candidate, run: Run): Promise<boolean> {
    let rotations: Rotation[];
    try {
      rotations = await this.deps.certificates.rotate(c.tls);
    } catch (err) {
      const error = `a certificate could not be replaced at runtime: ${(err as Error).message}`;
      this.forceReload = error;
      this.record(run, {
        event: 'certificate-rotated',
        plan: 'runtime',
        reasons: [],
        commands: 0,
        result: 'failed',
        error,
      });
      return false;
    }
    if (rotations.length === 0) return true;
    const reasons = rotations.map(
      (r) =>
        `certificate ${r.certificate} ${r.how === 'replaced' ? 'renewed in the running worker' : 'written (no frontend loads it)'}${r.fingerprint === null ? '' : ` (SHA-256 ${r.fingerprint})`}`,
    );
    const commands = rotations.filter((r) => r.how === 'replaced').length * 2;
    this.record(run, { event: 'certificate-rotated', plan: 'runtime', reasons, commands, result: 'ok' });
    return true;
  }

  /** Every certificate's state as HAProxy serves it (after the last run's renewals or reload). */
  certificateStates(): readonly CertificateState[] {
    return this.deps.certificates.states();
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
  private async runtime(
    c: Candidate,
    plan: Extract<Plan, { kind: 'runtime' }>,
    hash: string,
    run: Run,
  ): Promise<Outcome> {
    try {
      const commands = await this.applyRuntime(plan, c.config, c.state, c.manifests);
      this.failed = undefined;
      const generation = this.applied?.generation;
      this.record(run, { plan: 'runtime', reasons: plan.reasons, commands, result: 'ok', generation });
      return { result: 'ok' };
    } catch (err) {
      const reasons = [...plan.reasons, `runtime API failed: ${(err as Error).message}`];
      return this.checkAndReload(c, { kind: 'reload', reasons }, hash, run);
    }
  }

  private async checkAndReload(c: Candidate, plan: Plan, hash: string, run: Run): Promise<Outcome> {
    const check = await this.deps.check(c.config, 'candidate');
    if (!check.ok) return this.reject(c, plan, check, hash, run);
    return this.reload(c, plan, run);
  }

  /**
   * What to serve now, from every input: the manifests as declared (with
   * refused objects and unsafe natives set aside), rollouts moved on, the
   * desired state with gated switches held back, rendered.
   */
  private async prepare(): Promise<Candidate> {
    const { deploys, log } = this.deps;
    const declared = this.parsed.parse(await this.deps.readManifests());
    this.lastDeclared = declared;
    this.reportHeld(declared.held);
    this.forgetEditedRefusals(declared.manifests);
    const servable = this.servableOf(declared);
    this.reportIssues(servable.issues, servable.stale);
    const rolloutNotes = await deploys.advance(servable.backends.map((b) => b.manifest)).catch((err: unknown) => {
      log.warn(
        { err: (err as Error).message },
        'advancing rollouts failed (reading HAProxy counters, or saving their positions); they stay at their step',
      );
      return [];
    });
    const { manifests, state: wanted } = this.desiredFrom(servable);
    const gated = await deploys.gate(wanted, this.applied?.state);
    const held = this.holdEmpty(
      servable.backends.map((b) => b.manifest),
      gated.state,
    );
    const config = renderConfig(this.opts.template, held.state, this.opts.render);
    const notes = [...rolloutNotes, ...gated.notes, ...held.notes];
    const tls = await this.deps.certificates.resolve(
      servable.certificates.map((m) => m.manifest),
      held.state.frontends,
    );
    return { declared, manifests, state: held.state, config, notes, tls };
  }

  /** Backends held from a switch to nothing, by name. */
  private holds = new Map<string, EmptyHold>();

  /** Keeps every dynamic backend a switch would empty at its servers (empty-hold.ts); notes the new holds. */
  private holdEmpty(backends: readonly BackendManifest[], desired: DesiredState) {
    const byName = new Map(backends.map((b) => [b.metadata.name, b]));
    const guarded = new Set(
      backends.filter((b) => b.spec.type === 'dynamic' && b.spec.allowEmpty !== true).map((b) => b.metadata.name),
    );
    const { state, holds } = holdEmptySwitches({
      desired,
      applied: this.applied?.state,
      guarded,
      missing: (name) => {
        const b = byName.get(name);
        return b === undefined ? [] : this.deps.emptySubscriptions(b);
      },
    });
    const fresh = holds.filter((h) => this.holds.get(h.backend)?.message !== h.message);
    for (const h of fresh) this.deps.log.warn({ backend: h.backend }, `backend ${h.backend} ${h.message}`);
    this.holds = new Map(holds.map((h) => [h.backend, h]));
    return { state, notes: fresh.map((h) => `backend ${h.backend} ${h.message}`) };
  }

  /** Backends held from a switch to nothing (or a share with no instances) now. */
  held(): EmptyHold[] {
    return [...this.holds.values()];
  }

  /** Nothing to change in HAProxy; the manifests behind it may still be new (a rollout removed, a label added). */
  private async noop(c: Candidate, plan: Plan, run: Run): Promise<Outcome> {
    if (this.applied !== undefined && !sameManifests(this.applied.manifests, c.manifests)) {
      this.applied = { ...this.applied, manifests: c.manifests };
      await this.persist(this.applied);
    }
    // Periodic and follow-up looks that find nothing to do are not worth a ledger entry.
    const recorded = run.triggers.some((t) => !QUIET_TRIGGERS.has(t)) || c.notes.length > 0;
    if (recorded) this.record(run, { plan: 'noop', reasons: plan.reasons, commands: 0, result: 'ok' });
    else this.deps.log.debug({ triggers: run.triggers }, 'looked: nothing to change');
    const result = recorded ? 'ok' : 'noop';
    if (run.triggers.includes('resync')) {
      await this.checkDrift();
      if (this.forceReload !== undefined) return { result, work: { retryAfterMs: 0 } };
    }
    return { result };
  }

  /** The reload budget says wait: member changes go through the runtime API now, the rest after the wait. */
  private async defer(c: Candidate, plan: Plan, run: Run, wait: number): Promise<Outcome> {
    const applied = this.applied as Applied;
    const partial = withDesiredServers(applied.state, c.state);
    const partialConfig = renderConfig(this.opts.template, partial, this.opts.render);
    const partialPlan = this.plan(applied.config, partialConfig);
    const commands =
      partialPlan.kind === 'runtime'
        ? await this.applyRuntime(partialPlan, partialConfig, partial, applied.manifests)
        : 0;
    this.record(run, {
      plan: 'reload',
      reasons: [...plan.reasons, `waiting ${wait} ms for the reload budget`],
      commands,
      result: 'deferred',
    });
    return { result: 'deferred', work: { retryAfterMs: wait } };
  }

  /** haproxy -c refused the candidate: set its culprits aside and run again, or keep serving and wait. */
  private reject(c: Candidate, plan: Plan, check: CheckResult, hash: string, run: Run): Outcome {
    const error = describeCheckErrors(c.config, check.errors, sourceLookup(c.manifests)).join('; ');
    const setAside = this.setAside(c.config, check.errors, c.manifests, c.declared, false);
    // Level-triggered: with the culprits set aside, the next run serves everything else.
    if (setAside.length === 0) this.failed = { hash, retryAt: this.deps.clock.now() + FAILED_RETRY_MS };
    this.record(run, {
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

  /** A refused object that was edited since gets its chance again. */
  private forgetEditedRefusals(declared: readonly LocatedManifest[]): void {
    if (this.refusals.size === 0) return;
    const now = new Map(declared.map((m) => [objectKey(m.manifest.kind, m.manifest.metadata.name), m.manifest]));
    for (const [key, r] of this.refusals) {
      const m = now.get(key);
      if (m === undefined || manifestGeneration(m) !== r.generation) this.refusals.delete(key);
    }
  }

  /** Installs the candidate and reloads HAProxy; a failed reload puts the last good file back. */
  private async reload(c: Candidate, plan: Plan, run: Run): Promise<Outcome> {
    const { store, clock } = this.deps;
    const record = (extra: Pick<ApplyRecord, 'result'> & Partial<ApplyRecord>) =>
      this.record(run, { plan: 'reload', reasons: plan.reasons, commands: 0, ...extra });
    await this.installs; // a background install must not land after this reload's file
    this.pendingInstall = undefined;
    const previous = (await store.installed()) ?? this.applied?.config;
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
    this.budget = reloaded(this.reloadBudget(), this.budgetOptions(), clock.now());
    this.deps.applier.cancelAll();
    if (!outcome.ok) {
      // Put the last good file back, so a restart of HAProxy serves what was working.
      if (previous !== undefined) await store.install(previous);
      return this.reloadFailed(c, outcome.message, record);
    }
    await this.reloaded(c);
    await this.deps.certificates.reloaded(c.tls);
    record({
      result: 'ok',
      ...(outcome.workerPid !== undefined && { workerPid: outcome.workerPid }),
      generation: this.applied?.generation,
    });
    // A follow-up, not part of the apply: its duration is the reload's. Who waits on the apply's status
    // (unresolved members) waits for it through afterDriftCheck.
    this.driftRun = this.checkDrift();
    await this.driftRun;
    return { result: 'ok' };
  }

  /** HAProxy would not load the candidate: set aside the objects its message names, or wait and try again. */
  private reloadFailed(
    c: Candidate,
    message: string,
    record: (extra: Pick<ApplyRecord, 'result'> & Partial<ApplyRecord>) => ApplyRecord,
  ): Outcome {
    const errors = loadErrorsOf(message, this.deps.store.where.config);
    const setAside = this.setAside(c.config, errors, c.manifests, c.declared, true);
    if (setAside.length > 0) {
      record({
        result: 'failed',
        error: `${message}; set aside ${listed(setAside)} (tried again later), the rest applies`,
      });
      return { result: 'failed', work: { retryAfterMs: 0 } };
    }
    this.failed = { hash: sha256(c.config), retryAt: this.deps.clock.now() + FAILED_RETRY_MS };
    record({ result: 'failed', error: `${message} (tried again in ${FAILED_RETRY_MS / 1000} s)` });
    return { result: 'failed', work: { retryAfterMs: FAILED_RETRY_MS } };
  }

  /** HAProxy serves the candidate now: a full disk may cost the history and the restart record, never the apply. */
  private async reloaded(c: Candidate): Promise<void> {
    const generation = await this.deps.store.generations
      .record(c.config)
      .catch((err: unknown) => this.wrote('the generation history', err, (this.applied?.generation ?? 0) + 1));
    this.applied = { config: c.config, state: c.state, manifests: c.manifests, generation };
    this.failed = undefined;
    this.forceReload = undefined;
    await this.persist(this.applied).catch((err: unknown) => this.wrote('the applied state', err, undefined));
  }

  /**
   * Runtime ops now; the file that records them is checked and installed in
   * the background, without a reload, so the next change never waits for
   * haproxy -c. Installs are serialised and coalesced (the latest wins), and a
   * reload waits for them before it writes the file itself.
   */
  private async applyRuntime(
    plan: Extract<Plan, { kind: 'runtime' }>,
    config: string,
    state: DesiredState,
    manifests: LoadedManifest[],
  ): Promise<number> {
    const result = await this.deps.applier.apply(plan.ops);
    // Numbered now, so the ledger names it; its file is written with the background install.
    const generation = await this.deps.store.generations.allocate().catch(() => this.applied?.generation ?? 0);
    this.applied = { config, state, manifests, generation };
    this.pendingInstall = this.applied;
    this.installs = this.installs.then(() => this.installPending());
    return result.commands;
  }

  private pendingInstall: Applied | undefined;
  private installs: Promise<void> = Promise.resolve();

  private async installPending(): Promise<void> {
    const target = this.pendingInstall;
    if (target === undefined) return;
    this.pendingInstall = undefined;
    try {
      const check = await this.deps.check(target.config, 'install');
      if (!check.ok) {
        this.deps.log.error(
          { errors: check.errors },
          'haproxy -c refused the config recording runtime changes; it was not installed, the next reload rewrites it',
        );
        this.forceReload = 'the config of runtime changes was refused by haproxy -c';
        return;
      }
      await this.deps.store.install(target.config);
      await this.deps.store.generations.write(target.generation, target.config);
      await this.persist(target);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'installing the config of runtime changes failed');
    }
  }

  /** Resolves once background installs are done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.installs;
  }

  /** Servers HAProxy could not resolve, by backend (server name → host:port), from the last look at its servers. */
  private unresolvedBy = new Map<string, Map<string, string>>();

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
  private unresolvedOf(backend: string): string[] | undefined {
    const seen = this.unresolvedBy.get(backend);
    if (seen === undefined) return undefined;
    const servers = new Set(this.applied?.state.backends.find((b) => b.name === backend)?.servers.map((s) => s.name));
    const still = [...seen].filter(([server]) => servers.has(server)).map(([, member]) => member);
    return still.length > 0 ? still : undefined;
  }

  private lastDriftCheck: DriftCheck | undefined;
  private driftRun: Promise<void> = Promise.resolve();

  /** Resolves once the drift check that follows the latest reload is done (it reads what the new worker serves). */
  afterDriftCheck(): Promise<void> {
    return this.driftRun;
  }
  private driftListeners: ((c: DriftCheck) => void)[] = [];

  /** Calls listener after every drift check (the metrics count them by result). */
  onDriftCheck(listener: (c: DriftCheck) => void): void {
    this.driftListeners.push(listener);
  }

  /** The drift check and repair, its outcome kept for /status and the metrics rather than only logged. */
  private async checkDrift(): Promise<void> {
    if (this.applied === undefined) return;
    const at = new Date(this.deps.clock.now()).toISOString();
    try {
      await this.repairDrift();
      this.lastDriftCheck = { at, ok: true };
      this.deps.log.debug('drift check: HAProxy serves what was applied');
    } catch (err) {
      const error = (err as Error).message;
      this.deps.log.warn({ err: error }, 'drift check failed: what HAProxy serves could not be compared');
      this.lastDriftCheck = { at, ok: false, error };
    }
    for (const l of this.driftListeners) l(this.lastDriftCheck);
  }

  /** Compares what HAProxy reports with the applied config and repairs the difference. */
  private async repairDrift(): Promise<void> {
    if (this.applied === undefined) return;
    const states = await this.deps.runtime.serversState();
    this.noteUnresolved(this.applied.state, states);
    const drift = detectDrift(this.applied.config, states, this.deps.applier.draining());
    if (drift.ops.length > 0) {
      this.deps.log.warn({ reasons: drift.reasons }, 'repairing drift between HAProxy and the applied config');
      await this.deps.applier.apply(drift.ops);
    }
    if (drift.needsReload.length > 0) this.forceReload = `drift only a reload repairs: ${drift.needsReload.join(', ')}`;
  }
}
