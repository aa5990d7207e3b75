// The reconciler with fakes at its edges: manifests in memory, an HAProxy
// that reloads when told (or fails as told), a runtime API that records its
// commands, `haproxy -c` as a function, and a fake clock. Only the config
// file and the state directory are real (a temp directory).
import path from 'node:path';
import pino from 'pino';
import type { ManifestFile } from '../../src/core/manifests.js';
import type { CheckResult } from '../../src/haproxy/check.js';
import type { ReloadOutcome } from '../../src/haproxy/master-socket.js';
import type { HaproxyController } from '../../src/haproxy/process.js';
import type { RuntimeApi, RuntimeCommand } from '../../src/haproxy/runtime-api.js';
import { RuntimeApplier } from '../../src/haproxy/runtime-applier.js';
import { Deploys } from '../../src/reconcile/deploys.js';
import { Reconciler } from '../../src/reconcile/reconciler.js';
import { FakeClock } from './clock.js';
import { tempDir, yamlFile, type JsonObject } from './fixtures.js';
import { DEFAULT_TEMPLATE, TEST_RENDER_OPTIONS } from './render.js';

export interface FakeLoop {
  reconciler: Reconciler;
  clock: FakeClock;
  cfgPath: string;
  /** The manifest files the next read returns. */
  files: ManifestFile[];
  set(...docs: JsonObject[]): void;
  /** Reload outcomes to give, in order; then ok. */
  reloadOutcomes: ReloadOutcome[];
  reloads: number;
  /** Command batches sent to the runtime API. */
  batches: string[][];
  /** haproxy -c: refuses a config holding this text, naming its line. */
  refuse: string | undefined;
  run(...triggers: string[]): ReturnType<Reconciler['reconcile']>;
}

function fakeHaproxy(loop: { reloadOutcomes: ReloadOutcome[]; reloads: number }): HaproxyController {
  let running = false;
  return {
    mode: 'managed',
    running: async () => running,
    reload: async () => {
      loop.reloads++;
      const outcome = loop.reloadOutcomes.shift() ?? { ok: true, workerPid: 1000 + loop.reloads, message: 'ok' };
      running ||= outcome.ok;
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
export function fakeRuntime(sessions = new Map<string, number>()) {
  const batches: string[][] = [];
  const api: RuntimeApi = {
    command: async () => '',
    commands: async (list: readonly RuntimeCommand[]) => {
      batches.push(list.map((c) => c.command));
      return list.map((c) =>
        c.command.startsWith('add server')
          ? 'New server registered.'
          : c.command.startsWith('del server')
            ? 'Server deleted.'
            : '',
      );
    },
    serversState: async () => [],
    sessions: async () => sessions,
    stats: async () => [],
  };
  return { api, batches };
}

export async function fakeLoop(opts: { minReloadIntervalMs?: number } = {}): Promise<FakeLoop> {
  const dir = await tempDir('aqueduct-fake-loop-');
  const clock = new FakeClock();
  const log = pino({ level: 'silent' });
  const loop = { files: [] as ManifestFile[], reloadOutcomes: [] as ReloadOutcome[], reloads: 0 };
  const { api: runtime, batches } = fakeRuntime();
  const deploys = new Deploys({
    runtime,
    store: { load: async () => undefined, save: async () => undefined },
    registrations: () => [],
    clock,
    log,
    gateTimeoutMs: 30_000,
  });
  const self: FakeLoop = {
    ...loop,
    refuse: undefined,
    batches,
    clock,
    cfgPath: path.join(dir, 'haproxy.cfg'),
    reconciler: undefined as unknown as Reconciler,
    set(...docs) {
      self.files = [yamlFile('m.yaml', ...docs)];
    },
    run: (...triggers) => self.reconciler.reconcile(triggers.length > 0 ? triggers : ['watch'], clock.now()),
  };
  self.reconciler = new Reconciler(
    {
      readManifests: async () => self.files,
      members: () => ({}),
      check: fakeCheck(self),
      haproxy: fakeHaproxy(self),
      runtime,
      applier: new RuntimeApplier(runtime, log, 1000, clock),
      deploys,
      clock,
      log,
    },
    {
      cfgPath: self.cfgPath,
      stateDir: path.join(dir, 'state'),
      template: DEFAULT_TEMPLATE,
      render: TEST_RENDER_OPTIONS,
      minReloadIntervalMs: opts.minReloadIntervalMs ?? 250,
      keepGenerations: 10,
    },
  );
  return self;
}
