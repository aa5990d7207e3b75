// The reconciler with fakes at its edges: manifests in memory, an HAProxy
// that reloads when told (or fails as told), a runtime API that records its
// commands and the server states it is told to report, `haproxy -c` as a
// function, a config store in memory (that can refuse writes), and a fake
// clock. Nothing touches a file or a process.
import pino from 'pino';
import type { AppliedRecord, ConfigStore } from '../../src/core/config-store.js';
import type { ServerState } from '../../src/core/haproxy-output/runtime-output.js';
import { parseSections, serverArg } from '../../src/core/rendering/config-sections.js';
import type { ManifestFile } from '../../src/core/manifests/manifests.js';
import type { CheckResult } from '../../src/haproxy/check.js';
import type { ReloadOutcome } from '../../src/haproxy/master-socket.js';
import type { HaproxyController } from '../../src/haproxy/process.js';
import type { RuntimeApi } from '../../src/haproxy/runtime-api.js';
import type { RuntimeCommand } from '../../src/haproxy/commands.js';
import { RuntimeApplier } from '../../src/haproxy/runtime-applier.js';
import { Deploys } from '../../src/reconcile/deploys.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { CertificateKeeper } from '../../src/reconcile/certificates.js';
import { CertificateUpdater } from '../../src/haproxy/runtime-certificates.js';
import { CertificateSources } from '../../src/tls/certificate-sources.js';
import { TlsDir } from '../../src/tls/tls-dir.js';
import { FakeClock } from './clock.js';
import type { Clock } from '../../src/clock.js';
import { yamlFile, type JsonObject } from './fixtures.js';
import { DEFAULT_TEMPLATE, TEST_RENDER_OPTIONS } from './render.js';

export interface FakeLoop {
  reconciler: Reconciler;
  clock: FakeClock;
  /** The config file, the applied record and the generations, in memory. */
  store: MemoryConfigStore;
  /** The manifest files the next read returns. */
  files: ManifestFile[];
  set(...docs: JsonObject[]): void;
  /** Reload outcomes to give, in order; then ok. */
  reloadOutcomes: ReloadOutcome[];
  reloads: number;
  /** Whether HAProxy runs (a reload that works starts it). */
  running: boolean;
  /** When set, the runtime API refuses every batch with this message. */
  runtimeFailure: string | undefined;
  /** The backends each run told the member sources to follow, by name. */
  followed: string[][];
  /** Command batches sent to the runtime API. */
  batches: string[][];
  /** haproxy -c: refuses a config holding this text, naming its line. */
  refuse: string | undefined;
  /** Changes what HAProxy reports of its servers (by default, those of the installed config, healthy): drift. */
  tamper: (states: ServerState[]) => ServerState[];
  run(...triggers: string[]): ReturnType<Reconciler['reconcile']>;
  /** A new reconciler on the same store, HAProxy and clock: Aqueduct restarted. */
  restart(): Promise<void>;
}

export interface MemoryConfigStore extends ConfigStore {
  /** The config file HAProxy loads. */
  file: string | undefined;
  applied: AppliedRecord | undefined;
  history: Map<number, string>;
  /** When set, writes of the config file fail with this code (a full disk). */
  failWrites: string | undefined;
}

export function memoryConfigStore(): MemoryConfigStore {
  let last = 0;
  const store: MemoryConfigStore = {
    file: undefined,
    applied: undefined,
    history: new Map(),
    failWrites: undefined,
    where: { config: '/memory/haproxy.cfg', state: '/memory/state' },
    installed: async () => store.file,
    install: async (text) => {
      if (store.failWrites !== undefined)
        throw Object.assign(new Error(`${store.failWrites}: write failed`), { code: store.failWrites });
      store.file = text;
    },
    loadApplied: async () => store.applied,
    saveApplied: async (record) => {
      store.applied = structuredClone(record);
    },
    generations: {
      allocate: async () => ++last,
      write: async (seq, text) => {
        store.history.set(seq, text);
      },
      record: async (text) => {
        store.history.set(++last, text);
        return last;
      },
      read: async (seq) => store.history.get(seq),
    },
  };
  return store;
}

function fakeHaproxy(loop: { reloadOutcomes: ReloadOutcome[]; reloads: number; running: boolean }): HaproxyController {
  return {
    mode: 'managed',
    claim: async () => undefined,
    running: async () => loop.running,
    reload: async () => {
      loop.reloads++;
      const outcome = loop.reloadOutcomes.shift() ?? { ok: true, workerPid: 1000 + loop.reloads, message: 'ok' };
      loop.running ||= outcome.ok;
      return outcome;
    },
    workerPid: async () => 1000 + loop.reloads,
    oldWorkers: async () => undefined,
    watch: () => undefined,
    stop: async () => undefined,
  };
}

function fakeCheck(loop: { refuse: string | undefined }) {
  return async (config: string): Promise<CheckResult> => {
    const at = loop.refuse === undefined ? -1 : config.split('\n').findIndex((l) => l.includes(loop.refuse ?? ''));
    if (at === -1) return { ok: true, output: '', errors: [] };
    const message = `parsing [cfg:${at + 1}] : unknown keyword '${loop.refuse ?? ''}'`;
    return { ok: false, output: message, errors: [{ line: at + 1, message }] };
  };
}

/** A runtime API that records each batch of commands and answers as HAProxy does; sessions as given. */
export function fakeRuntime(
  sessions = new Map<string, number>(),
  states: () => ServerState[] = () => [],
  failure: () => string | undefined = () => undefined,
) {
  const batches: string[][] = [];
  const api: RuntimeApi = {
    command: async () => '',
    commands: async (list: readonly RuntimeCommand[]) => {
      batches.push(list.map((c) => c.command));
      const refused = failure();
      if (refused !== undefined) throw new Error(refused);
      return list.map((c) =>
        c.command.startsWith('add server')
          ? 'New server registered.'
          : c.command.startsWith('del server')
            ? 'Server deleted.'
            : c.command.startsWith('prepare map')
              ? `New version created: ${batches.length}`
              : '',
      );
    },
    serversState: async () => states(),
    sessions: async () => sessions,
    stats: async () => [],
  };
  return { api, batches };
}

/** The servers of a config as HAProxy reports them when all is well: up, weight as configured. */
function serversOf(config: string | undefined): ServerState[] {
  return parseSections(config ?? '').flatMap((section) =>
    [...section.servers].map(([server, line]) => ({
      backend: section.name,
      server,
      address: '',
      port: 0,
      adminState: 0,
      operationalState: 2,
      weight: Number(serverArg(line, 'weight') ?? '1'),
      checkResult: 3,
    })),
  );
}

export interface FakeLoopOptions {
  minReloadIntervalMs?: number;
  /** Time for the loop's parts (default: the fake clock the test moves). */
  clock?: Clock;
  /** Where manifests are read (default: the in-memory files). */
  readManifests?: () => Promise<ManifestFile[]>;
}

export async function fakeLoop(opts: FakeLoopOptions = {}): Promise<FakeLoop> {
  const fake = new FakeClock();
  const clock: Clock = opts.clock ?? fake;
  const log = pino({ level: 'silent' });
  const loop = { files: [] as ManifestFile[], reloadOutcomes: [] as ReloadOutcome[], reloads: 0, running: false };
  const store = memoryConfigStore();
  const { api: runtime, batches } = fakeRuntime(
    new Map(),
    () => self.tamper(serversOf(store.file)),
    () => self.runtimeFailure,
  );
  const self: FakeLoop = {
    ...loop,
    refuse: undefined,
    runtimeFailure: undefined,
    batches,
    followed: [],
    clock: fake,
    store,
    tamper: (states) => states,
    reconciler: undefined as unknown as Reconciler,
    set(...docs) {
      self.files = [yamlFile('m.yaml', ...docs)];
    },
    run: (...triggers) => self.reconciler.reconcile(triggers.length > 0 ? triggers : ['watch'], clock.now()),
    restart: async () => {
      self.reconciler = build();
      await self.reconciler.resume();
    },
  };
  const haproxy = fakeHaproxy(self);
  const build = () => {
    const deploys = new Deploys({
      runtime,
      store: { load: async () => undefined, save: async () => undefined },
      members: () => [],
      clock,
      log,
      gateTimeoutMs: 30_000,
    });
    return new Reconciler(
      {
        readManifests: opts.readManifests ?? (async () => self.files),
        members: () => ({}),
        emptySubscriptions: () => [],
        follow: (backends) => self.followed.push(backends.map((b) => b.metadata.name)),
        check: fakeCheck(self),
        haproxy,
        store,
        runtime,
        applier: new RuntimeApplier(runtime, log, 1000, clock),
        deploys,
        certificates: noCertificates(runtime, clock, log),
        clock,
        log,
      },
      {
        template: DEFAULT_TEMPLATE,
        render: TEST_RENDER_OPTIONS,
        minReloadIntervalMs: opts.minReloadIntervalMs ?? 250,
      },
    );
  };
  self.reconciler = build();
  return self;
}

/** A keeper for loops that declare no certificates: nothing is read or written. */
function noCertificates(runtime: RuntimeApi, clock: Clock, log: pino.Logger): CertificateKeeper {
  const nowhere = '/nonexistent/aqueduct-fake-loop';
  return new CertificateKeeper({
    sources: new CertificateSources({ manifestsDir: nowhere, acmeDir: nowhere }),
    dir: new TlsDir(nowhere),
    updater: new CertificateUpdater(runtime),
    clock,
    log,
  });
}
