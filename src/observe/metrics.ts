// Prometheus metrics about Aqueduct itself, with prom-client on a registry of
// our own (nothing global, so tests and embedders can run several). Counters
// are fed by the wiring in main.ts; gauges of current state are read at
// scrape time from the parts that own that state.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApplyRecord } from '../reconcile/reconciler.js';
import { certificateGauges, deployGauges, identityGauges, servedGauges, type MetricsSources } from './metric-gauges.js';

export const PLANS = ['noop', 'runtime', 'reload'] as const;
export const APPLY_RESULTS = ['ok', 'failed', 'rejected', 'deferred'] as const;
export const RECONCILE_RESULTS = ['noop', ...APPLY_RESULTS, 'error'] as const;
export const REGISTRY_EVENTS = ['online', 'offline', 'list', 'invalid'] as const;
export const ROLLOUT_EVENTS = ['started', 'advanced', 'aborted', 'complete', 'removed'] as const;
export const GATE_EVENTS = ['waiting', 'timed-out', 'passed'] as const;

// prom-client's gauges named *_total break `promtool check metrics` (a gauge
// must not look like a counter); the per-type gauges beside them hold the same.
const DEFAULTS_LEFT_OUT = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export class Metrics {
  readonly registry = new Registry();
  private readonly reconciles = new Counter({
    name: 'aqueduct_reconciles_total',
    help: 'Reconcile runs by result (noop: nothing to do; else the apply result; error: it threw and is retried)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly reconcileSeconds = new Histogram({
    name: 'aqueduct_reconcile_duration_seconds',
    help: 'Duration of reconcile runs, including the apply',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly applies = new Counter({
    name: 'aqueduct_applies_total',
    help: 'Ledger entries by plan and result',
    labelNames: ['plan', 'result'],
    registers: [this.registry],
  });
  private readonly reloads = new Counter({
    name: 'aqueduct_haproxy_reloads_total',
    help: 'HAProxy reloads by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly runtimeCommands = new Counter({
    name: 'aqueduct_runtime_commands_total',
    help: 'Runtime API commands sent to HAProxy by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly validationFailures = new Counter({
    name: 'aqueduct_validation_failures_total',
    help: 'Refused inputs: API writes answered 4xx, HAProxy refusing a candidate config, invalid registry messages',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly registryEvents = new Counter({
    name: 'aqueduct_registry_events_total',
    help: 'Registry events received by type (list: a full list read)',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly lastApply = new Gauge({
    name: 'aqueduct_last_successful_apply_timestamp_seconds',
    help: 'When HAProxy last took a change (runtime or reload), Unix time',
    registers: [this.registry],
  });
  private readonly rolloutEvents = new Counter({
    name: 'aqueduct_rollout_events_total',
    help: 'Rollout transitions: started, advanced (a step), aborted (rolled back on errors), complete, removed',
    labelNames: ['event'],
    registers: [this.registry],
  });
  private readonly gateEvents = new Counter({
    name: 'aqueduct_health_gate_events_total',
    help: 'Health-gated switches: waiting (old servers held), timed-out (no new server healthy in time), passed',
    labelNames: ['event'],
    registers: [this.registry],
  });
  private readonly haproxyEvents = new Counter({
    name: 'aqueduct_haproxy_process_events_total',
    help: 'HAProxy going away outside a reload (exited: crashed, killed, or stopped answering) and coming back',
    labelNames: ['event'],
    registers: [this.registry],
  });
  private readonly driftChecks = new Counter({
    name: 'aqueduct_drift_checks_total',
    help: "Comparisons of HAProxy's servers with the applied config (after each reload and resync) by result: failed means HAProxy could not be asked",
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly renewals = new Counter({
    name: 'aqueduct_certificate_renewals_total',
    help: 'Certificates replaced in the running HAProxy through its runtime API (ok), or refused by it (failed: a reload follows)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly lastApplySuccess: Gauge;

  constructor(sources: MetricsSources) {
    // Unprefixed, as every Node exporter names them, so standard Node.js dashboards work.
    collectDefaultMetrics({ register: this.registry });
    for (const name of DEFAULTS_LEFT_OUT) this.registry.removeSingleMetric(name);
    const registers = [this.registry];
    this.lastApplySuccess = identityGauges(sources, registers);
    servedGauges(sources, registers);
    deployGauges(sources, registers);
    certificateGauges(sources, registers);
    this.zeroes();
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
