// Wiring for `aqueduct run`: build every part, connect their events, and
// start and stop them through one lifecycle (src/lifecycle.ts). The only
// place that knows all the parts; the behaviour lives in the parts.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { systemClock, every, type Clock } from './clock.js';
import type { RunConfig } from './config.js';
import { AqueductError } from './core/issues.js';
import type { RolloutPosition } from './core/deploy/rollout.js';
import { emptySubscriptions, memberMapFor, subscriptionsOf } from './core/registry/members.js';
import type { MemberLookup } from './core/registry/subscription.js';
import { readJson, writeJsonAtomic } from './files/atomic.js';
import { lockStateDir, type InstanceLock } from './files/instance-lock.js';
import { fileParseStore, type ParseStore } from './files/parse-store.js';
import { SCHEMAS_DIGEST } from './core/manifests/schema-validation.js';
import { checkConfigTextAt, type HaproxyBuild } from './haproxy/check.js';
import { CertificateUpdater } from './haproxy/runtime-certificates.js';
import { CertificateKeeper } from './reconcile/certificates.js';
import { certificateFigures } from './core/tls/certificate-state.js';
import { CertificateSources } from './tls/certificate-sources.js';
import { TlsDir } from './tls/tls-dir.js';
import { StoredPairs } from './tls/stored-pairs.js';
import { AcmeIssuer } from './tls/acme-issuer.js';
import { ChallengeMap } from './tls/acme-challenges.js';
import { watchCertificateFiles, type CertificateWatcher } from './tls/certificate-watcher.js';
import { checkOnce, type ConfigCheck } from './haproxy/check-once.js';
import { haproxyEnvironment } from './haproxy/environment.js';
import { fileConfigStore } from './haproxy/config-store.js';
import { createController, type HaproxyController, processStatus } from './haproxy/process.js';
import { countingRuntime, runtimeApi, type RuntimeApi } from './haproxy/runtime-api.js';
import { RuntimeApplier } from './haproxy/runtime-applier.js';
import { sendCommand } from './haproxy/socket-client.js';
import { showStat } from './haproxy/commands.js';
import { StatsPoller } from './haproxy/stats-poller.js';
import { logAccessPosture } from './http/access-posture.js';
import { buildApp } from './http/app.js';
import { ManifestStore } from './sources/manifest-store.js';
import { ObjectService } from './http/object-service.js';
import { processHeap, startIdleCollector } from './idle-collector.js';
import { startAll, stopAll, within, type Component, type StopOptions } from './lifecycle.js';
import { accessWriter } from './log.js';
import { ActivityFeed } from './observe/activity.js';
import { Metrics } from './observe/metrics.js';
import { announceReady, endpointsOf } from './observe/ready-line.js';
import { PACKAGE_VERSION, UI_DIR } from './package-paths.js';
import { preflight, type Preflight } from './preflight.js';
import { procRelayDetector } from './http/relay-detector.js';
import { ownAddressProblem } from './core/manifests/bind.js';
import { Deploys } from './reconcile/deploys.js';
import { Reconciler } from './reconcile/reconciler.js';
import { WorkQueue } from './reconcile/work-queue.js';
import { importPersistenceFile } from './sources/legacy-import.js';
import { ManifestReader } from './sources/manifest-reader.js';
import { watchManifestDir, type Watcher } from './sources/manifest-watcher.js';
import { registryApiUrl } from './sources/registry/create-registry.js';
import { MemberSources } from './sources/member-sources.js';
import { startSelfRegistration } from './sources/registry/self-registration.js';

export interface Aqueduct {
  config: RunConfig;
  reconciler: Reconciler;
  queue: WorkQueue;
  haproxy: HaproxyController;
  api: FastifyInstance;
  sources: MemberSources;
  stop(): Promise<void>;
}

/** Bytes a stream client may have waiting before it is dropped as too slow. */
const STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long a running reconcile may hold the shutdown (HAProxy's own stop has --stopTimeout on top). */
const RECONCILE_STOP_MS = 10_000;
/** How long requests still open may take to finish when the API closes. */
const API_CLOSE_MS = 2000;

/** Every part of a running Aqueduct. */
interface Parts {
  haproxy: HaproxyController;
  runtime: RuntimeApi;
  applier: RuntimeApplier;
  activity: ActivityFeed;
  metrics: Metrics;
  /** Where dynamic backends' members come from: the registry --registry runs, DNS. */
  sources: MemberSources;
  deploys: Deploys;
  reconciler: Reconciler;
  queue: WorkQueue;
  store: ManifestStore;
  service: ObjectService;
  poller: StatsPoller;
  api: FastifyInstance;
  /**
   * The watchers, once started, and what the loop's reads tell them to follow:
   * the real directories the last read reached (symlinked ones included), the
   * certificate files.
   */
  watch: {
    /** The loop's read of the manifests: the files events name, or all of them. */
    reader: ManifestReader;
    watcher?: Watcher;
    certificates?: CertificateWatcher;
    realDirs: Set<string>;
    certificateFiles: Set<string>;
  };
  /** Parses kept for the next start. */
  parses: ParseStore;
}

/** Starts every part; resolves once the first reconcile has been asked for. */
export async function startAqueduct(config: RunConfig, log: Logger, clock: Clock = systemClock): Promise<Aqueduct> {
  const parts = await buildParts(config, log, clock, await preflight(config, log));
  connectEvents(parts, config, log);
  const components = componentsOf(parts, config, log, clock);
  const stopOpts: StopOptions = { budgetMs: RECONCILE_STOP_MS + config.stopTimeout + 5_000, clock, log };
  await startAll(components, stopOpts);
  log.info({ manifests: config.manifests, mode: config.haproxyMode, cfg: config.haproxyCfgPath }, 'aqueduct running');
  let stopped: Promise<void> | undefined;
  const { reconciler, queue, haproxy, api, sources } = parts;
  return {
    config,
    reconciler,
    queue,
    haproxy,
    api,
    sources,
    stop: () =>
      (stopped ??= (async () => {
        log.info('shutting down');
        await stopAll(components, stopOpts);
        log.info('stopped');
      })()),
  };
}

/**
 * `haproxy -c` on a candidate written to <stateDir>/<scratch>-check.cfg, in
 * HAProxy's own minimal environment; one per process, shared by the API and
 * the loop, so bytes already accepted are not checked again.
 */
function haproxyCheck(config: RunConfig, env: NodeJS.ProcessEnv, clock: Clock): ConfigCheck {
  return checkOnce(
    (text, scratch) =>
      checkConfigTextAt(config.haproxyBin, text, path.join(config.stateDir, `${scratch}-check.cfg`), env),
    clock,
  );
}

async function buildParts(config: RunConfig, log: Logger, clock: Clock, pre: Preflight): Promise<Parts> {
  const env = haproxyEnvironment(process.env, config.haproxyEnv);
  const haproxy = createController(config.haproxyMode, {
    haproxyBin: config.haproxyBin,
    env,
    cfgPath: config.haproxyCfgPath,
    masterSocket: config.haproxyMasterSocket,
    pidPath: config.haproxyPidPath,
    statsSocket: config.haproxySocketPath,
    mark: pre.mark,
    sudo: config.sudo,
    stopTimeoutMs: config.stopTimeout,
    clock,
    accessLog: accessWriter(log, config.logFormat),
    log,
  });
  const activity = new ActivityFeed(clock);
  const metrics = metricsOf(() => parts, config, pre);
  const sources = MemberSources.create(config, {
    onChange: () => parts.queue.add('registry'),
    refuse: (r) => ownAddressProblem(r.host, r.port, pre.own),
    observer: {
      event: (type, detail) => {
        metrics.registryEvent(type);
        activity.registryEvent(type, detail);
      },
      connection: (connected, reason) => activity.registryConnection(connected, reason),
    },
    log,
    clock,
  });
  const runtime = countingRuntime(runtimeApi(config.haproxySocketPath), (ok) => metrics.runtimeCommand(ok));
  const applier = new RuntimeApplier(runtime, log, config.drainTimeout, clock);
  const check = haproxyCheck(config, env, clock);
  const loop = loopParts(config, log, clock, pre, { haproxy, runtime, applier, sources, check });
  // The API's own writes are read again by the loop at once, whenever the watcher reports them.
  const store = new ManifestStore(config.manifests, Date.now, (file) => loop.watch.reader.changed(file));
  const service = new ObjectService({
    store,
    loop: loop.reconciler,
    members: (sub) => sources.members(sub),
    check: (text) => check(text, 'api'),
    requestApply: (trigger) => loop.queue.add(trigger, 0),
    pairs: new StoredPairs(path.join(config.stateDir, 'certificates')),
    clock,
    allowUnsafeNatives: config.allowUnsafeNatives,
    own: pre.own,
    log,
  });
  const poller = new StatsPoller(
    () => sendCommand(config.haproxySocketPath, showStat().command, 10_000),
    config.statsInterval,
    log,
    clock,
  );
  const base = { haproxy, runtime, applier, activity, metrics, sources, ...loop, store, service, poller };
  const parts: Parts = { ...base, api: await apiOf(base, config, log, pre.haproxyBuild) };
  return parts;
}

/** The gauges read the parts at scrape time, when every part exists. */
function metricsOf(parts: () => Parts, config: RunConfig, pre: Preflight): Metrics {
  return new Metrics({
    manifests: async () =>
      parts()
        .service.overviewOf(parts().reconciler.served.lastRead())
        .objects.map((o) => ({ kind: o.manifest.kind, state: o.status.state })),
    members: () => parts().reconciler.served.appliedMembers(),
    registryConnected: () => (config.registry === 'none' ? undefined : parts().sources.registryStatus().connected),
    oldWorkers: () => parts().haproxy.oldWorkers(),
    rollouts: () =>
      parts()
        .deploys.rollouts()
        .map(([backend, p]) => ({ backend, state: p.state, share: p.share })),
    healthGates: () =>
      parts()
        .deploys.gatesOpen()
        .map((g) => ({ backend: g.backend, timedOut: g.timedOut })),
    held: () => parts().reconciler.candidates.held(),
    certificates: () => certificateFigures(parts().reconciler.served.certificateStates()),
    build: {
      version: PACKAGE_VERSION,
      haproxyVersion: pre.haproxyVersion,
      haproxyVersionText: pre.haproxyBuild.versionText,
      haproxyBuildOptions: pre.haproxyBuild.buildOptions,
      nodeVersion: process.version,
    },
    applied: () => parts().reconciler.served.appliedIdentity(),
  });
}

/** Certificates read from their files (or ACME's), served from <stateDir>/tls, renewed through the runtime API. */
function certificateKeeper(
  config: RunConfig,
  { tlsDir, acmeChallengeMap: map }: { tlsDir: string; acmeChallengeMap?: string | undefined },
  { runtime, clock, log, wake }: { runtime: RuntimeApi; clock: Clock; log: Logger; wake: () => void },
  onRead: (files: string[]) => void,
): CertificateKeeper {
  const acmeDir = path.join(config.stateDir, 'acme');
  // Preflight made the map when --acmeDirectory is set.
  const acme =
    config.acmeDirectory === undefined || map === undefined
      ? undefined
      : new AcmeIssuer({
          directoryUrl: config.acmeDirectory,
          ...(config.acmeEmail !== undefined && { email: config.acmeEmail }),
          ...(config.acmeCaFile !== undefined && { caFile: config.acmeCaFile }),
          dir: acmeDir,
          renewBeforeMs: config.acmeRenewBefore * 86_400_000,
          challenges: new ChallengeMap(map, runtime),
          clock,
          log,
          wake,
        });
  return new CertificateKeeper({
    ...(acme !== undefined && { acme }),
    sources: new CertificateSources({
      manifestsDir: config.manifests,
      acmeDir: AcmeIssuer.certificatesDir(acmeDir),
      onRead,
    }),
    dir: new TlsDir(tlsDir),
    updater: new CertificateUpdater(runtime),
    clock,
    log,
  });
}

/** The loop: rollouts and gates, the reconciler, and the queue that runs it. */
function loopParts(
  config: RunConfig,
  log: Logger,
  clock: Clock,
  pre: Preflight,
  edges: {
    haproxy: HaproxyController;
    runtime: RuntimeApi;
    applier: RuntimeApplier;
    sources: MemberSources;
    check: ConfigCheck;
  },
): Pick<Parts, 'deploys' | 'reconciler' | 'queue' | 'watch' | 'parses'> {
  const { haproxy, runtime, applier, sources, check } = edges;
  const members: MemberLookup = (sub) => sources.members(sub);
  const rolloutsFile = path.join(config.stateDir, 'rollouts.json');
  const rolloutOf = (name: string) => deploys.positionOf(name);
  const deploys = new Deploys({
    runtime,
    store: {
      load: () => readJson<Record<string, RolloutPosition>>(rolloutsFile),
      save: (positions) => writeJsonAtomic(rolloutsFile, positions),
    },
    members,
    clock,
    log,
    gateTimeoutMs: config.healthGateTimeout,
  });
  const realDirs = new Set<string>();
  const reader = new ManifestReader(config.manifests, realDirs);
  const watch: Parts['watch'] = { reader, realDirs, certificateFiles: new Set() };
  const parses = parseStoreOf(config, log);
  const reconciler = new Reconciler(
    {
      readManifests: async () => {
        const files = await reader.read();
        watch.watcher?.follow(watch.realDirs);
        return files;
      },
      members: (backends) => memberMapFor(backends, members, rolloutOf),
      emptySubscriptions: (b) => emptySubscriptions(b, members, rolloutOf),
      follow: (backends) => sources.follow(subscriptionsOf(backends, rolloutOf)),
      parses,
      deploys,
      certificates: certificateKeeper(
        config,
        { tlsDir: pre.tlsDir, acmeChallengeMap: pre.render.acmeChallengeMap },
        { runtime, clock, log, wake: () => queue.add('acme', 0) },
        (files) => {
          for (const f of files) watch.certificateFiles.add(f);
          watch.certificates?.follow(files);
        },
      ),
      check,
      haproxy,
      store: fileConfigStore(config.haproxyCfgPath, config.stateDir, config.keepGenerations),
      runtime,
      applier,
      clock,
      log,
    },
    {
      template: pre.template,
      render: pre.render,
      minReloadIntervalMs: config.minReloadInterval,
      reloadBurst: config.reloadBurst,
      allowUnsafeNatives: config.allowUnsafeNatives,
      own: pre.own,
    },
  );
  reconciler.onReconciled(() => parses.runEnded());
  const queue = new WorkQueue((triggers, at) => reconciler.reconcile(triggers, at), {
    debounceMs: 20,
    clock,
    onError: (err, attempt) =>
      log.error({ err: (err as Error).message, attempt }, 'reconcile failed; retrying with backoff'),
  });
  return { deploys, reconciler, queue, watch, parses };
}

function apiOf(
  parts: Omit<Parts, 'api'>,
  config: RunConfig,
  log: Logger,
  build: HaproxyBuild,
): Promise<FastifyInstance> {
  const binary = { version: build.versionText, buildOptions: build.buildOptions };
  const { reconciler, service, poller, activity, metrics, sources, haproxy } = parts;
  return buildApp(
    {
      service,
      ledger: () => reconciler.served.ledger(),
      observe: { poller, activity, metrics, maxBufferedBytes: STREAM_MAX_BUFFERED_BYTES },
      onRejected: () => metrics.validationFailure('api'),
      relay: procRelayDetector({ haproxyMayBeHidden: config.haproxyMode === 'external' }),
      system: {
        appliedConfig: () => reconciler.served.appliedConfig(),
        preview: (files) => reconciler.candidates.preview(files),
        generationConfig: (seq) => reconciler.served.generationConfig(seq),
        access: {
          readOnly: config.readOnly,
          readToken: config.apiReadToken !== undefined,
          writeToken: config.apiToken !== undefined,
        },
        ready: () => reconciler.served.status().ready,
        lastApply: () => reconciler.served.ledger().at(-1),
        extra: async () => ({
          driftCheck: reconciler.served.status().driftCheck ?? null,
          registry: sources.registryStatus(),
          sources: sources.statuses(),
          haproxy: { ...binary, ...(await processStatus(haproxy, config.haproxyMasterSocket)) },
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
}

/** Who hears what: each part records its own outcomes; this only connects them. */
function connectEvents(parts: Parts, config: RunConfig, log: Logger): void {
  const { reconciler, metrics, activity, deploys, service } = parts;
  reconciler.onReconciled((result, seconds) => metrics.reconciled(result, seconds));
  reconciler.onApply((r) => metrics.applied(r));
  reconciler.onDriftCheck((c) => metrics.driftChecked(c.ok));
  reconciler.onApply((r) => activity.apply(r));
  reconciler.onApply(announceReady(log, () => reconciler.served.appliedFrontends(), endpointsOf(config)));
  deploys.onEvent((e) => metrics.deployEvent(e.type, e.event));
  deploys.onEvent((e) => activity.deploy(e));
  if (!config.readOnly) deploys.onEvent((e) => service.followRollout(e));
}

/**
 * HAProxy dying outside a reload is seen at once (our child) or within a
 * second (the master socket). Started with the haproxy component, after its
 * claim: a start that fails leaves no watchdog running (nor reconciling).
 */
function watchHaproxy(parts: Parts): void {
  const { reconciler, metrics, activity, haproxy, queue } = parts;
  haproxy.watch((e) => {
    metrics.haproxyEvent(e.type);
    activity.haproxy(e);
    if (e.type === 'exited') reconciler.noteHaproxyExit(e.message);
    queue.add(`haproxy-${e.type}`, 0);
  });
}

/** <stateDir>/parse-cache.json, good for this version and these schemas only. */
function parseStoreOf(config: RunConfig, log: Logger): ParseStore {
  return fileParseStore(config.stateDir, `${PACKAGE_VERSION}/${SCHEMAS_DIGEST}`, {
    delayMs: 2000,
    onError: (err) =>
      log.warn({ err: (err as Error).message }, 'could not keep the parse cache; a restart parses again'),
  });
}

/** The parts with a start or a stop, in start order (they stop in reverse). */
function componentsOf(parts: Parts, config: RunConfig, log: Logger, clock: Clock): Component[] {
  const { haproxy, reconciler, queue, store, api, poller, sources, parses } = parts;
  let stopResync = (): void => undefined;
  let self: { stop(): Promise<void> } | undefined;
  let lock: InstanceLock | undefined;
  return [
    {
      name: 'state lock',
      start: async () => {
        lock = await lockStateDir(config.stateDir);
      },
      stop: () => lock?.release(),
    },
    // First: a managed instance must not start beside (or adopt) another's HAProxy.
    {
      name: 'haproxy',
      start: async () => {
        await haproxy.claim();
        watchHaproxy(parts);
      },
      stop: () => haproxy.stop(),
    },
    {
      name: 'loop',
      start: () => reconciler.resume(), // before the API can ask for a reconcile
      stop: () => stopLoop(parts, clock, log).then(() => parses.flush()), // the loop's last parses are kept
    },
    { name: 'persistence import', start: () => importPersistence(config, store, log) },
    { name: 'api', start: () => listen(api, config, log), stop: () => closeApi(api, clock) },
    { name: 'stats poller', stop: () => poller.stop() },
    idleCollector(clock, log),
    manifestWatcher(parts, config, log, clock),
    {
      name: 'certificate watcher',
      start: () => {
        const onError = (err: unknown) =>
          log.warn({ err: (err as Error).message }, 'certificate watcher error; the periodic resync still reads them');
        parts.watch.certificates = watchCertificateFiles(() => queue.add('certificate-file'), onError, clock);
        parts.watch.certificates.follow(parts.watch.certificateFiles);
      },
      stop: () => parts.watch.certificates?.close(),
    },
    {
      name: 'resync',
      start: () => {
        if (config.resyncInterval > 0)
          stopResync = every(clock, config.resyncInterval, () => {
            parts.watch.reader.changed(); // a whole read: what events missed is found here
            store.invalidate();
            queue.add('resync', 0);
          });
      },
      stop: () => stopResync(),
    },
    { name: 'member sources', start: () => sources.start(), stop: () => sources.stop() },
    {
      name: 'self-registration',
      start: () => {
        self = selfRegistration(config, log, clock);
      },
      stop: () => self?.stop(),
    },
    { name: 'first reconcile', start: () => queue.add('startup', 0) },
  ];
}

/**
 * The manifest watcher starts when the first run has ended, not before it:
 * chokidar's first scan (an lstat and a watch for every file, ~80 ms of this
 * thread at 1,000 files) would otherwise share the thread with the first
 * read, and delay what a start serves. What changes before its scan ends is
 * read again once it is ready (see watchManifestDir).
 */
function manifestWatcher(parts: Parts, config: RunConfig, log: Logger, clock: Clock): Component {
  const { queue, store, reconciler, watch } = parts;
  let stopped = false;
  const begin = (): void => {
    if (stopped || watch.watcher !== undefined) return;
    watch.watcher = watchManifestDir(config.manifests, {
      onChange: (trigger, files) => {
        // An editor's or git's hidden temporary file wakes nobody: the event that matters is its rename.
        const matters = files === undefined ? [watch.reader.changed()] : files.map((f) => watch.reader.changed(f));
        if (!matters.includes(true)) return;
        store.invalidate();
        queue.add(trigger, trigger === 'watch' ? undefined : 0);
      },
      onError: (err) =>
        log.warn({ err: (err as Error).message }, 'manifest watcher error; the periodic resync still reads everything'),
      clock,
    });
    watch.watcher.follow(watch.realDirs);
  };
  return {
    name: 'watcher',
    start: () => reconciler.onReconciled(begin),
    stop: () => {
      stopped = true;
      return watch.watcher?.close();
    },
  };
}

/** Gives the heap's garbage back once a burst of work is over (src/idle-collector.ts). */
function idleCollector(clock: Clock, log: Logger): Component {
  let stop = (): void => undefined;
  return {
    name: 'idle collector',
    start: () => {
      stop = startIdleCollector(processHeap(), clock, (c) =>
        log.debug(
          { collection: c.kind, heapMb: mb(c.beforeBytes), liveMb: mb(c.afterBytes), ms: c.ms },
          'idle: heap collected',
        ),
      );
    },
    stop: () => stop(),
  };
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

/** Lets a running reconcile finish (within its share of the stop budget), then background installs. */
async function stopLoop(parts: Parts, clock: Clock, log: Logger): Promise<void> {
  const current = parts.queue.idle();
  parts.queue.stop();
  if (!(await within(RECONCILE_STOP_MS, clock, current)))
    log.warn({ waitedMs: RECONCILE_STOP_MS }, 'a reconcile still running is abandoned by the stop');
  await parts.reconciler.settled();
  parts.applier.cancelAll();
}

/**
 * Closes the API without waiting on its clients: dashboards' streams are cut
 * at once (they reconnect to the next process), and requests still open after
 * API_CLOSE_MS are ended, so an open page never holds the stop.
 */
async function closeApi(api: FastifyInstance, clock: Clock): Promise<void> {
  for (const client of api.websocketServer.clients) client.terminate();
  const closing = api.close();
  if (!(await within(API_CLOSE_MS, clock, closing))) api.server.closeAllConnections();
  await closing;
}

async function listen(api: FastifyInstance, config: RunConfig, log: Logger): Promise<void> {
  try {
    await api.listen({ host: config.host, port: config.port });
  } catch (err) {
    throw new AqueductError(
      'startup',
      `REST API: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
    );
  }
  logAccessPosture(config, log);
}

async function importPersistence(config: RunConfig, store: ManifestStore, log: Logger): Promise<void> {
  if (config.persistence === undefined) return;
  if (config.readOnly)
    log.warn({ persistence: config.persistence }, '--readOnly: the persistence file is not imported');
  else await importPersistenceFile(config.persistence, store, log);
}

function selfRegistration(config: RunConfig, log: Logger, clock: Clock): { stop(): Promise<void> } | undefined {
  if (config.registry === 'none' || config.noSelfRegistration) return undefined;
  return startSelfRegistration({
    apiUrl: registryApiUrl(config),
    version: PACKAGE_VERSION,
    host: config.host,
    port: config.port,
    ...(config.label !== undefined && { label: config.label }),
    intervalMs: 10_000,
    log,
    clock,
  });
}
