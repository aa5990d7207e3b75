// Wiring for `aqueduct run`: build every piece, connect them, start the loop,
// and take it all down again. The only place that knows all the parts.
import { accessWriter } from './log.js';
import { readyLine, type Endpoints } from './observe/ready-line.js';
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RunConfig } from './config.js';
import { AqueductError, formatIssue } from './core/issues.js';
import { parseBind, reservedBind, type ReservedBind } from './core/bind.js';
import { checkRenderOptions, type RenderOptions } from './core/render.js';
import { checkConfigTextAt, featuresOf, haproxyVersion } from './haproxy/check.js';
import { createController, type HaproxyController, processStatus } from './haproxy/process.js';
import { countingRuntime, runtimeApi } from './haproxy/runtime-api.js';
import { RuntimeApplier } from './haproxy/runtime-applier.js';
import { DEFAULT_TEMPLATE_FILE } from './package-paths.js';
import { systemClock } from './clock.js';
import { Deploys } from './reconcile/deploys.js';
import { Reconciler } from './reconcile/reconciler.js';
import type { RolloutPosition } from './core/deploy/rollout.js';
import { readJson, writeJsonAtomic } from './haproxy/config-file.js';
import { WorkQueue } from './reconcile/work-queue.js';
import { readManifestDir } from './sources/manifest-dir.js';
import { watchManifestDir, type Watcher } from './sources/manifest-watcher.js';
import { readTemplateFile } from './sources/template-file.js';
import { importPersistenceFile } from './sources/legacy-import.js';
import { buildApp } from './http/app.js';
import { ManifestStore } from './http/manifest-store.js';
import { ObjectService } from './http/object-service.js';
import { PACKAGE_VERSION, UI_DIR } from './package-paths.js';
import type { FastifyInstance } from 'fastify';
import { performance } from 'node:perf_hooks';
import { sendCommand } from './haproxy/socket-client.js';
import { StatsPoller } from './haproxy/stats-poller.js';
import { ActivityFeed } from './observe/activity.js';
import { Metrics } from './observe/metrics.js';
import { memberMapFor } from './core/registry.js';
import { createRegistrySource, registryApiUrl } from './sources/registry/create-registry.js';
import type { RegistrySource } from './sources/registry/registry-source.js';
import { startSelfRegistration } from './sources/registry/self-registration.js';

export interface Aqueduct {
  config: RunConfig;
  reconciler: Reconciler;
  queue: WorkQueue;
  haproxy: HaproxyController;
  api: FastifyInstance;
  registry: RegistrySource;
  stop(): Promise<void>;
}

/** Bytes a stream client may have waiting before it is dropped as too slow. */
const STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

async function writableDir(dir: string, what: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch(() => undefined);
  const isDir = (await stat(dir).catch(() => undefined))?.isDirectory() === true;
  const writable =
    isDir &&
    (await access(dir, constants.W_OK).then(
      () => true,
      () => false,
    ));
  if (!writable) throw new AqueductError('startup', `${what}: directory ${dir} is missing or not writable`);
}

/** Where a person reaches what this process serves, for the ready line. */
function endpointsOf(config: RunConfig): Endpoints {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const api = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  return { api, ...(config.haproxyMetricsBind !== undefined && { haproxyMetrics: config.haproxyMetricsBind }) };
}

/** The addresses Aqueduct itself listens on, which no frontend may take. */
function reservedBinds(config: RunConfig): ReservedBind[] {
  const out = [reservedBind(config.host, config.port, "Aqueduct's REST API (--host/--port)")];
  const stats = config.statsBind === undefined ? undefined : parseBind(config.statsBind).addresses[0];
  if (stats !== undefined) out.push({ address: stats, owner: "HAProxy's stats page (--statsBind)" });
  const metrics =
    config.haproxyMetricsBind === undefined ? undefined : parseBind(config.haproxyMetricsBind).addresses[0];
  if (metrics !== undefined)
    out.push({ address: metrics, owner: "HAProxy's Prometheus exporter (--haproxyMetricsBind)" });
  return out;
}

/** Checks everything that can be checked before touching HAProxy; throws AqueductError('startup') with a clear message. */
async function preflight(
  config: RunConfig,
  log: Logger,
): Promise<{ template: string; render: RenderOptions; haproxyVersion: string }> {
  let version: [number, number, number];
  try {
    version = await haproxyVersion(config.haproxyBin);
  } catch (err) {
    throw new AqueductError(
      'startup',
      `${(err as Error).message} (install HAProxy, e.g. apt-get install haproxy, or pass --haproxyBin)`,
    );
  }
  log.info({ haproxy: version.join('.') }, 'found HAProxy');
  const dirStat = await stat(config.manifests).catch(() => undefined);
  if (dirStat === undefined && !config.manifestsExplicit) {
    await mkdir(config.manifests, { recursive: true });
    log.info({ manifests: config.manifests }, 'created the manifests directory');
  } else if (dirStat?.isDirectory() !== true) {
    throw new AqueductError('startup', `manifests directory not found: ${config.manifests}`);
  }
  await writableDir(path.dirname(config.haproxyCfgPath), '--haproxyCfgPath');
  await writableDir(path.dirname(config.haproxySocketPath), '--haproxySocketPath');
  await writableDir(config.stateDir, '--stateDir');
  if (config.haproxyMode === 'managed')
    await writableDir(path.dirname(config.haproxyMasterSocket), '--haproxyMasterSocket');
  if (config.haproxyMode === 'pidfile') await writableDir(path.dirname(config.haproxyPidPath), '--haproxyPidPath');
  const template = await readTemplateFile(config.templateFile ?? DEFAULT_TEMPLATE_FILE);
  const render: RenderOptions = {
    statsSocketPath: config.haproxySocketPath,
    hardStopAfter: config.hardStopAfter,
    mworkerMaxReloads: config.mworkerMaxReloads,
    features: featuresOf(version),
    ...(config.statsBind === undefined ? {} : { statsBind: config.statsBind }),
    ...(config.haproxyMetricsBind === undefined ? {} : { metricsBind: config.haproxyMetricsBind }),
    accessLog: config.accessLog,
  };
  const problems = [...template.issues, ...checkRenderOptions(render)];
  if (problems.length > 0 || template.template === undefined)
    throw new AqueductError('startup', problems.map(formatIssue).join('; '), problems);
  return { template: template.template, render, haproxyVersion: version.join('.') };
}

/** Starts the loop; resolves once the first reconcile has been scheduled. */
export async function startAqueduct(config: RunConfig, log: Logger): Promise<Aqueduct> {
  const { template, render, haproxyVersion: haproxyVersionText } = await preflight(config, log);
  const haproxy = createController(config.haproxyMode, {
    haproxyBin: config.haproxyBin,
    cfgPath: config.haproxyCfgPath,
    masterSocket: config.haproxyMasterSocket,
    pidPath: config.haproxyPidPath,
    statsSocket: config.haproxySocketPath,
    sudo: config.sudo,
    stopTimeoutMs: config.stopTimeout,
    clock: systemClock,
    accessLog: accessWriter(log, config.logFormat),
    log,
  });
  const activity = new ActivityFeed();
  // The gauges read these at scrape time, when every part below exists.
  const metrics = new Metrics({
    manifests: async () =>
      (await service.overview()).objects.map((o) => ({ kind: o.manifest.kind, state: o.status.state })),
    members: () => reconciler.appliedMembers(),
    registryConnected: () => (config.registry === 'none' ? undefined : registry.status().connected),
    oldWorkers: () => haproxy.oldWorkers(),
    rollouts: () =>
      deploys.rollouts().map(([backend, p]) => ({
        backend,
        state: p.state,
        share: p.share,
      })),
    healthGates: () => deploys.gatesOpen().map((g) => ({ backend: g.backend, timedOut: g.timedOut })),
    build: { version: PACKAGE_VERSION, haproxyVersion: haproxyVersionText, nodeVersion: process.version },
    applied: () => reconciler.appliedIdentity(),
  });
  // Registry changes only mark work: the loop reads the snapshot when it runs.
  let onRegistryChange = (): void => undefined;
  const registry = createRegistrySource(config, () => onRegistryChange(), log, {
    event: (type, { id, changed }) => {
      metrics.registryEvent(type);
      if (type === 'invalid') metrics.validationFailure('registry');
      if (changed && (type === 'online' || type === 'offline')) activity.publish(`registry-${type}`, { id });
    },
    connection: (connected, reason) =>
      activity.publish(
        connected ? 'registry-connected' : 'registry-disconnected',
        reason === undefined ? {} : { reason },
      ),
  });
  const runtime = countingRuntime(runtimeApi(config.haproxySocketPath), (ok) => metrics.runtimeCommand(ok));
  const applier = new RuntimeApplier(runtime, log, config.drainTimeout, systemClock);
  const registrations = (name: string, version: string) => registry.registrations(name, version);
  const reserved = reservedBinds(config);
  // The real directories the last read reached, which the watcher follows (symlinked ones included).
  const realDirs = new Set<string>();
  let watcher: Watcher | undefined = undefined; // set once the loop exists; reads before that follow nothing
  const rolloutsFile = path.join(config.stateDir, 'rollouts.json');
  const deploys = new Deploys({
    runtime,
    store: {
      load: () => readJson<Record<string, RolloutPosition>>(rolloutsFile),
      save: (positions) => writeJsonAtomic(rolloutsFile, positions),
    },
    registrations,
    clock: systemClock,
    log,
    gateTimeoutMs: config.healthGateTimeout,
  });
  const reconciler = new Reconciler(
    {
      readManifests: async () => {
        const files = await readManifestDir(config.manifests, realDirs);
        watcher?.follow(realDirs);
        return files;
      },
      members: (backends) => memberMapFor(backends, registrations, (name) => deploys.positionOf(name)),
      deploys,
      check: (text, scratch) =>
        checkConfigTextAt(config.haproxyBin, text, path.join(config.stateDir, `${scratch}-check.cfg`)),
      haproxy,
      runtime,
      applier,
      clock: systemClock,
      log,
    },
    {
      cfgPath: config.haproxyCfgPath,
      stateDir: config.stateDir,
      template,
      render,
      minReloadIntervalMs: config.minReloadInterval,
      reloadBurst: config.reloadBurst,
      keepGenerations: config.keepGenerations,
      allowUnsafeNatives: config.allowUnsafeNatives,
      reserved,
    },
  );
  const store = new ManifestStore(config.manifests);
  if (config.persistence !== undefined) {
    if (config.readOnly)
      log.warn({ persistence: config.persistence }, '--readOnly: the persistence file is not imported');
    else await importPersistenceFile(config.persistence, store, log);
  }
  let announced = false;
  reconciler.onApply((r) => {
    metrics.applied(r);
    if (!announced && r.result === 'ok' && r.plan !== 'noop') {
      announced = true;
      log.info(readyLine(reconciler.appliedFrontends(), endpointsOf(config)));
    }
    if (r.result === 'ok' && r.plan !== 'noop') activity.publish('config-changed', { apply: r.id, plan: r.plan });
    if (r.result === 'ok' && r.plan === 'reload') activity.publish('reloaded', { apply: r.id, workerPid: r.workerPid });
    if (r.result === 'failed' || r.result === 'rejected')
      activity.publish('apply-failed', { apply: r.id, result: r.result, error: r.error });
  });
  deploys.onEvent((e) => {
    metrics.deployEvent(e.type, e.event);
    const detail = { backend: e.backend, message: e.message };
    if (e.type === 'rollout') activity.publish(`rollout-${e.event}`, { ...detail, position: e.position });
    else activity.publish(`gate-${e.event}`, { ...detail, gate: e.gate });
    // A finished rollout makes its version the backend's version in the manifest (where the API may write).
    if (e.type === 'rollout' && e.event === 'complete' && !config.readOnly)
      void service
        .completeRollout(e.backend, e.position.to)
        .catch((err: unknown) =>
          log.warn(
            { backend: e.backend, err: (err as Error).message },
            'could not write the rolled-out version to the manifest',
          ),
        );
  });
  // HAProxy dying outside a reload is seen at once (our child) or within a second (the master socket).
  haproxy.watch((e) => {
    metrics.haproxyEvent(e.type);
    activity.publish(`haproxy-${e.type}`, { message: e.message });
    if (e.type === 'exited') reconciler.noteHaproxyExit(e.message);
    queue.add(`haproxy-${e.type}`, 0);
  });
  const reconcileMeasured = async (triggers: string[], lastTriggerAt: number) => {
    const started = performance.now();
    const before = reconciler.ledger().at(-1)?.id;
    try {
      const result = await reconciler.reconcile(triggers, lastTriggerAt);
      const last = reconciler.ledger().at(-1);
      metrics.reconciled(
        last !== undefined && last.id !== before ? last.result : 'noop',
        (performance.now() - started) / 1000,
      );
      return result;
    } catch (err) {
      metrics.reconciled('error', (performance.now() - started) / 1000);
      throw err;
    }
  };
  const queue = new WorkQueue(reconcileMeasured, {
    debounceMs: 20,
    clock: systemClock,
    onError: (err, attempt) =>
      log.error({ err: (err as Error).message, attempt }, 'reconcile failed; retrying with backoff'),
  });
  const service = new ObjectService({
    store,
    loop: reconciler,
    registrations: (name, version) => registry.registrations(name, version),
    check: (text) => checkConfigTextAt(config.haproxyBin, text, path.join(config.stateDir, 'api-check.cfg')),
    requestApply: (trigger) => queue.add(trigger, 0),
    allowUnsafeNatives: config.allowUnsafeNatives,
    reserved,
    log,
  });
  const poller = new StatsPoller(
    () => sendCommand(config.haproxySocketPath, 'show stat', 10_000),
    config.statsInterval,
    log,
  );
  const api = await buildApp(
    {
      service,
      ledger: () => reconciler.ledger(),
      observe: { poller, activity, metrics, maxBufferedBytes: STREAM_MAX_BUFFERED_BYTES },
      onRejected: () => metrics.validationFailure('api'),
      system: {
        appliedConfig: () => reconciler.appliedConfig(),
        preview: (files) => reconciler.preview(files),
        generationConfig: (seq) => reconciler.generationConfig(seq),
        access: {
          readOnly: config.readOnly,
          readToken: config.apiReadToken !== undefined,
          writeToken: config.apiToken !== undefined,
        },
        ready: () => reconciler.status().ready,
        lastApply: () => reconciler.ledger().at(-1),
        extra: async () => ({
          registry: registry.status(),
          haproxy: await processStatus(haproxy, config.haproxyMasterSocket),
        }),
      },
      log,
    },
    {
      readOnly: config.readOnly,
      openWrites: config.insecureOpenWrites,
      allowedOrigins: config.apiAllowedOrigins,
      allowedHosts: config.apiAllowedHosts,
      auth: {
        ...(config.apiToken !== undefined && { writeToken: config.apiToken }),
        ...(config.apiReadToken !== undefined && { readToken: config.apiReadToken }),
      },
      bodyLimit: config.apiBodyLimit,
      waitTimeoutMs: config.applyWaitTimeout,
      version: PACKAGE_VERSION,
      uiDir: UI_DIR,
    },
  );
  await reconciler.resume(); // before the API can ask for a reconcile
  try {
    await api.listen({ host: config.host, port: config.port });
  } catch (err) {
    throw new AqueductError(
      'startup',
      `REST API: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
    );
  }
  if (config.allowUnsafeNatives)
    log.warn('UNSAFE: --allowUnsafeNatives: natives may open sections, run programs and load code');
  if (config.insecureOpenWrites && config.apiToken === undefined && !config.readOnly)
    log.warn(
      { host: config.host, port: config.port },
      'INSECURE: --insecureOpenWrites: the REST API accepts writes without a token from any peer that reaches it',
    );
  else if (config.apiToken === undefined && config.apiReadToken !== undefined && !config.readOnly)
    log.info('only --apiReadToken is set: API writes need that token too; set --apiToken for a separate write token');
  else if (config.apiToken === undefined && !config.readOnly && !isLoopback(config.host))
    log.info(
      { host: config.host, port: config.port },
      'the REST API takes writes from loopback peers only: set --apiToken (AQUEDUCT_API_TOKEN) to write from the network',
    );
  log.info({ host: config.host, port: config.port, readOnly: config.readOnly }, 'REST API listening');
  // chokidar drops a second "change" of one path within 50 ms, so a quick second edit
  // could go unseen until the resync: look again shortly after the last event.
  let settle: NodeJS.Timeout | undefined;
  const onWatch = () => {
    store.invalidate();
    queue.add('watch');
    if (settle !== undefined) clearTimeout(settle);
    settle = setTimeout(() => queue.add('watch-settle', 0), 60);
  };
  watcher = watchManifestDir(config.manifests, onWatch, (err) =>
    log.warn({ err: (err as Error).message }, 'manifest watcher error; the periodic resync still reads everything'),
  );
  const resync =
    config.resyncInterval > 0
      ? setInterval(() => {
          store.invalidate();
          queue.add('resync', 0);
        }, config.resyncInterval)
      : undefined;
  onRegistryChange = () => queue.add('registry');
  registry.start();
  const self =
    config.registry !== 'none' && !config.noSelfRegistration
      ? startSelfRegistration({
          apiUrl: registryApiUrl(config),
          version: PACKAGE_VERSION,
          host: config.host,
          port: config.port,
          ...(config.label !== undefined && { label: config.label }),
          intervalMs: 10_000,
          log,
        })
      : undefined;
  queue.add('startup', 0);
  log.info({ manifests: config.manifests, mode: config.haproxyMode, cfg: config.haproxyCfgPath }, 'aqueduct running');

  let stopped: Promise<void> | undefined;
  return {
    config,
    reconciler,
    queue,
    haproxy,
    api,
    registry,
    stop: () =>
      (stopped ??= (async () => {
        log.info('shutting down');
        if (resync !== undefined) clearInterval(resync);
        if (settle !== undefined) clearTimeout(settle);
        poller.stop();
        await api.close();
        await self?.stop();
        await registry.stop();
        await watcher?.close();
        const current = queue.idle();
        queue.stop();
        // Let a running reconcile finish, but not hold the shutdown (nor the process) for ever.
        await Promise.race([current, new Promise((r) => setTimeout(r, 10_000).unref())]);
        await reconciler.settled();
        applier.cancelAll();
        await haproxy.stop();
        log.info('stopped');
      })()),
  };
}
