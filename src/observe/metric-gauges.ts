// The gauges of current state, read from the parts that own it when
// Prometheus scrapes (metrics.ts holds the counters the wiring feeds).
import { Gauge, type Registry } from 'prom-client';

const KINDS = ['Frontend', 'Backend', 'Certificate'] as const;
const STATES = ['applied', 'pending', 'invalid'] as const;

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

/** Objects by state, members, the registry's connection and HAProxy's old workers, read at scrape time. */
export function servedGauges(sources: MetricsSources, registers: Registry[]): void {
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
export function deployGauges(sources: MetricsSources, registers: Registry[]): void {
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
export function certificateGauges(sources: MetricsSources, registers: Registry[]): void {
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

/** What runs, and what it serves: build versions, the applied generation and config hash, the last apply's outcome. */
export function identityGauges(sources: MetricsSources, registers: Registry[]): Gauge {
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
