// Prometheus metrics about Aqueduct itself, with prom-client on a registry of
// our own (nothing global, so tests and embedders can run several). Counters
// are fed by the wiring in main.ts; gauges of current state are read at
// scrape time from the parts that own that state.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApplyRecord } from '../reconcile/reconciler.js';

export const PLANS = ['noop', 'runtime', 'reload'] as const;
export const APPLY_RESULTS = ['ok', 'failed', 'rejected', 'deferred'] as const;
export const RECONCILE_RESULTS = ['noop', ...APPLY_RESULTS, 'error'] as const;
export const REGISTRY_EVENTS = ['online', 'offline', 'list', 'invalid'] as const;
export const KINDS = ['Frontend', 'Backend', 'Certificate'] as const;
export const STATES = ['applied', 'pending', 'invalid'] as const;
export const ROLLOUT_EVENTS = ['started', 'advanced', 'aborted', 'complete', 'removed'] as const;
export const GATE_EVENTS = ['waiting', 'timed-out', 'passed'] as const;

/** What the gauges read when Prometheus scrapes. */
export interface MetricsSources {
  manifests(): Promise<{ kind: string; state: string }[]>;
  /** Members per backend as HAProxy serves them. */
  members(): Record<string, number>;
  registryConnected(): boolean | undefined;
  /** HAProxy's old workers (still draining after reloads), when a master socket tells. */
  oldWorkers(): Promise<number | undefined>;
  /** Rollouts by backend: the new version's share now (percent) and state. */
  rollouts(): { backend: string; share: number; state: string }[];
  /** Backends whose switch waits for a new server to pass its health check, and whether past the timeout. */
  healthGates(): { backend: string; timedOut: boolean }[];
  /** Backends held from a switch to nothing (empty), or missing a version of their split. */
  held(): { backend: string; empty: boolean }[];
  /** Certificates: when what HAProxy is given expires (none for a placeholder), and what is wrong with the declared pair. */
  certificates(): { certificate: string; notAfterSeconds?: number; problem?: string }[];
  /** Versions for aqueduct_build_info. */
  build: {
    version: string;
    haproxyVersion: string;
    /** As haproxy -vv prints it, e.g. 3.0.11-9e587df, and its build options: aqueduct_haproxy_info. */
    haproxyVersionText: string;
    haproxyBuildOptions: string;
    nodeVersion: string;
  };
  /** The generation HAProxy serves and the sha256 of its config (undefined before the first apply). */
  applied(): { generation: number; hash: string } | undefined;
}

// prom-client's gauges named *_total break `promtool check metrics` (a gauge
// must not look like a counter); the per-type gauges beside them hold the same.
const DEFAULTS_LEFT_OUT = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export class Metrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private readonly reconciles = new Counter({
    name: 'aqueduct_reconciles_total',
    help: 'Reconcile runs by result (noop: nothing to do; else the apply result; error: it threw and is retried)',
    labelNames: ['result'],
    registers: this.registers,
  });
  private readonly reconcileSeconds = new Histogram({
    name: 'aqueduct_reconcile_duration_seconds',
    help: 'Duration of reconcile runs, including the apply',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.registers,
  });
  private readonly applies = new Counter({
    name: 'aqueduct_applies_total',
    help: 'Ledger entries by plan and result',
    labelNames: ['plan', 'result'],
    registers: this.registers,
  });
  private readonly reloads = new Counter({
    name: 'aqueduct_haproxy_reloads_total',
    help: 'HAProxy reloads by result',
    labelNames: ['result'],
    registers: this.registers,
  });
  private readonly runtimeCommands = new Counter({
    name: 'aqueduct_runtime_commands_total',
    help: 'Runtime API commands sent to HAProxy by result',
    labelNames: ['result'],
    registers: this.registers,
  });
  private readonly validationFailures = new Counter({
    name: 'aqueduct_validation_failures_total',
    help: 'Refused inputs: API writes answered 4xx, HAProxy refusing a candidate config, invalid registry messages',
    labelNames: ['source'],
    registers: this.registers,
  });
  private readonly registryEvents = new Counter({
    name: 'aqueduct_registry_events_total',
    help: 'Registry events received by type (list: a full list read)',
    labelNames: ['type'],
    registers: this.registers,
  });
  private readonly lastApply = new Gauge({
    name: 'aqueduct_last_successful_apply_timestamp_seconds',
    help: 'When HAProxy last took a change (runtime or reload), Unix time',
    registers: this.registers,
  });
  private readonly rolloutEvents = new Counter({
    name: 'aqueduct_rollout_events_total',
    help: 'Rollout transitions: started, advanced (a step), aborted (rolled back on errors), complete, removed',
    labelNames: ['event'],
    registers: this.registers,
  });
  private readonly gateEvents = new Counter({
    name: 'aqueduct_health_gate_events_total',
    help: 'Health-gated switches: waiting (old servers held), timed-out (no new server healthy in time), passed',
    labelNames: ['event'],
    registers: this.registers,
  });
  private readonly haproxyEvents = new Counter({
    name: 'aqueduct_haproxy_process_events_total',
    help: 'HAProxy going away outside a reload (exited: crashed, killed, or stopped answering) and coming back',
    labelNames: ['event'],
    registers: this.registers,
  });
  private readonly driftChecks = new Counter({
    name: 'aqueduct_drift_checks_total',
    help: "Comparisons of HAProxy's servers with the applied config (after each reload and resync) by result: failed means HAProxy could not be asked",
    labelNames: ['result'],
    registers: this.registers,
  });
  private readonly renewals = new Counter({
    name: 'aqueduct_certificate_renewals_total',
    help: 'Certificates replaced in the running HAProxy through its runtime API (ok), or refused by it (failed: a reload follows)',
    labelNames: ['result'],
    registers: this.registers,
  });
  private readonly lastApplySuccess: Gauge;

  constructor(sources: MetricsSources) {
    // Unprefixed, as every Node exporter names them, so standard Node.js dashboards work.
    collectDefaultMetrics({ register: this.registry });
    for (const name of DEFAULTS_LEFT_OUT) this.registry.removeSingleMetric(name);
    this.lastApplySuccess = this.identity(sources, this.registers);
    this.servedGauges(sources, this.registers);
    this.deployGauges(sources, this.registers);
    this.certificateGauges(sources, this.registers);
    this.zeroes();
  }

  /** Objects by state, members, the registry's connection and HAProxy's old workers, read at scrape time. */
  private servedGauges(sources: MetricsSources, registers: Registry[]): void {
    new Gauge({
      name: 'aqueduct_manifests',
      help: 'Declared objects by kind and state (applied, pending, invalid)',
      labelNames: ['kind', 'state'],
      registers,
      async collect() {
        const counts = new Map<string, number>();
        for (const k of KINDS) for (const s of STATES) counts.set(`${k}/${s}`, 0);
        for (const m of await sources.manifests())
          counts.set(`${m.kind}/${m.state}`, (counts.get(`${m.kind}/${m.state}`) ?? 0) + 1);
        this.reset();
        for (const [key, n] of counts) {
          const [kind = '', state = ''] = key.split('/');
          this.set({ kind, state }, n);
        }
      },
    });
    new Gauge({
      name: 'aqueduct_backend_members',
      help: 'Servers per backend in the config HAProxy serves',
      labelNames: ['backend'],
      registers,
      collect() {
        this.reset();
        for (const [backend, n] of Object.entries(sources.members())) this.set({ backend }, n);
      },
    });
    new Gauge({
      name: 'aqueduct_registry_connected',
      help: "1 while the registry's event stream is connected, 0 when not (absent without a registry)",
      registers,
      collect() {
        const c = sources.registryConnected();
        this.reset();
        if (c !== undefined) this.set(c ? 1 : 0);
      },
    });
    new Gauge({
      name: 'aqueduct_haproxy_old_workers',
      help: 'HAProxy workers left from earlier reloads, still finishing their connections',
      registers,
      async collect() {
        const n = await sources.oldWorkers();
        this.reset();
        if (n !== undefined) this.set(n);
      },
    });
  }

  /** Rollouts and health gates under way, read at scrape time. */
  private deployGauges(sources: MetricsSources, registers: Registry[]): void {
    new Gauge({
      name: 'aqueduct_rollout_share_percent',
      help: "The new version's share of requests in each backend's rollout now, with the rollout's state",
      labelNames: ['backend', 'state'],
      registers,
      collect() {
        this.reset();
        for (const r of sources.rollouts()) this.set({ backend: r.backend, state: r.state }, r.share);
      },
    });
    new Gauge({
      name: 'aqueduct_health_gate_waiting',
      help: 'Backends whose switch to new servers waits for one to pass its health check (timed_out="true" past --healthGateTimeout)',
      labelNames: ['backend', 'timed_out'],
      registers,
      collect() {
        this.reset();
        for (const g of sources.healthGates()) this.set({ backend: g.backend, timed_out: String(g.timedOut) }, 1);
      },
    });
    new Gauge({
      name: 'aqueduct_backend_held',
      help: 'Dynamic backends held from a switch to nothing (empty="true": the switch would leave no server, the current ones keep serving) or serving a split without a version that has no instances (empty="false")',
      labelNames: ['backend', 'empty'],
      registers,
      collect() {
        this.reset();
        for (const h of sources.held()) this.set({ backend: h.backend, empty: String(h.empty) }, 1);
      },
    });
  }

  /** Certificate expiry and problems, read at scrape time from the loop's last look at them. */
  private certificateGauges(sources: MetricsSources, registers: Registry[]): void {
    new Gauge({
      name: 'aqueduct_certificate_not_after_seconds',
      help: 'When the certificate HAProxy serves for each Certificate expires, Unix time (absent while a placeholder stands in)',
      labelNames: ['certificate'],
      registers,
      collect() {
        this.reset();
        for (const c of sources.certificates())
          if (c.notAfterSeconds !== undefined) this.set({ certificate: c.certificate }, c.notAfterSeconds);
      },
    });
    new Gauge({
      name: 'aqueduct_certificate_problem',
      help: "1 while a Certificate's declared pair cannot be served as it is (condition: expired, key mismatch, unreadable, pending, ...); the last good pair or a placeholder serves",
      labelNames: ['certificate', 'condition'],
      registers,
      collect() {
        this.reset();
        for (const c of sources.certificates())
          if (c.problem !== undefined) this.set({ certificate: c.certificate, condition: c.problem }, 1);
      },
    });
  }

  private zeroes(): void {
    // Every label value exists from the start at 0, so rates and alerts work before the first event.
    for (const r of RECONCILE_RESULTS) this.reconciles.inc({ result: r }, 0);
    for (const p of PLANS) for (const r of APPLY_RESULTS) this.applies.inc({ plan: p, result: r }, 0);
    for (const r of ['ok', 'failed']) this.reloads.inc({ result: r }, 0);
    for (const r of ['ok', 'error']) this.runtimeCommands.inc({ result: r }, 0);
    for (const s of ['api', 'haproxy', 'registry']) this.validationFailures.inc({ source: s }, 0);
    for (const t of REGISTRY_EVENTS) this.registryEvents.inc({ type: t }, 0);
    for (const e of ROLLOUT_EVENTS) this.rolloutEvents.inc({ event: e }, 0);
    for (const e of GATE_EVENTS) this.gateEvents.inc({ event: e }, 0);
    for (const e of ['exited', 'back']) this.haproxyEvents.inc({ event: e }, 0);
    for (const r of ['ok', 'failed']) this.driftChecks.inc({ result: r }, 0);
    for (const r of ['ok', 'failed']) this.renewals.inc({ result: r }, 0);
  }

  driftChecked(ok: boolean): void {
    this.driftChecks.inc({ result: ok ? 'ok' : 'failed' });
  }

  /** What runs, and what it serves: build versions, the applied generation and config hash, the last apply's outcome. */
  private identity(sources: MetricsSources, registers: Registry[]): Gauge {
    new Gauge({
      name: 'aqueduct_build_info',
      help: 'Always 1; the labels say which Aqueduct, HAProxy and Node.js run',
      labelNames: ['version', 'haproxy_version', 'node_version'],
      registers,
    }).set(
      {
        version: sources.build.version,
        haproxy_version: sources.build.haproxyVersion,
        node_version: sources.build.nodeVersion,
      },
      1,
    );
    new Gauge({
      name: 'aqueduct_haproxy_info',
      help: 'Always 1; the labels say which HAProxy runs: its version as it prints it and the options it was built with (haproxy -vv)',
      labelNames: ['version', 'build_options'],
      registers,
    }).set({ version: sources.build.haproxyVersionText, build_options: sources.build.haproxyBuildOptions }, 1);
    new Gauge({
      name: 'aqueduct_applied_generation',
      help: 'Generation of the config HAProxy serves (absent before the first apply)',
      registers,
      collect() {
        this.reset();
        const a = sources.applied();
        if (a !== undefined) this.set(a.generation);
      },
    });
    new Gauge({
      name: 'aqueduct_config_info',
      help: 'Always 1; hash is the sha256 (first 12 hex digits) of the config HAProxy serves: compare it across a fleet',
      labelNames: ['hash'],
      registers,
      collect() {
        this.reset();
        const a = sources.applied();
        if (a !== undefined) this.set({ hash: a.hash }, 1);
      },
    });
    return new Gauge({
      name: 'aqueduct_last_apply_success',
      help: '1 when the latest apply that finished (ok, failed or rejected) succeeded, 0 when it did not',
      registers,
    });
  }

  haproxyEvent(event: 'exited' | 'back'): void {
    this.haproxyEvents.inc({ event });
  }

  deployEvent(type: 'rollout' | 'gate', event: string): void {
    (type === 'rollout' ? this.rolloutEvents : this.gateEvents).inc({ event });
  }

  reconciled(result: (typeof RECONCILE_RESULTS)[number], seconds: number): void {
    this.reconciles.inc({ result });
    this.reconcileSeconds.observe(seconds);
  }

  applied(r: ApplyRecord): void {
    if (r.event === 'certificate-rotated')
      this.renewals.inc({ result: r.result === 'ok' ? 'ok' : 'failed' }, r.result === 'ok' ? r.reasons.length : 1);
    if (r.event !== undefined) return; // counted by their own metrics, not as applies
    this.applies.inc({ plan: r.plan, result: r.result });
    if (r.plan === 'reload' && (r.result === 'ok' || r.result === 'failed')) this.reloads.inc({ result: r.result });
    if (r.result === 'rejected') this.validationFailures.inc({ source: 'haproxy' });
    if (r.result === 'ok' && r.plan !== 'noop') this.lastApply.set(Date.parse(r.at) / 1000);
    if (r.result !== 'deferred') this.lastApplySuccess.set(r.result === 'ok' ? 1 : 0);
  }

  runtimeCommand(ok: boolean): void {
    this.runtimeCommands.inc({ result: ok ? 'ok' : 'error' });
  }

  validationFailure(source: 'api' | 'registry'): void {
    this.validationFailures.inc({ source });
  }

  registryEvent(type: (typeof REGISTRY_EVENTS)[number]): void {
    this.registryEvents.inc({ type });
    if (type === 'invalid') this.validationFailure('registry');
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
