// The REST API in process, for HTTP behaviour that needs no running HAProxy:
// the real app, object service and manifest store on a temp directory of
// its own, `haproxy -c` by the real binary, and the reconciler with fakes at
// its edges (test/helpers/fake-loop.ts) run by a real work queue. Requests go
// through app.inject(): no port, no process, a fresh state per test.
import { StoredPairs } from '../../src/tls/stored-pairs.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { stringify } from 'yaml';
import { systemClock } from '../../src/clock.js';
import { checkConfigTextAt } from '../../src/haproxy/check.js';
import { buildApp } from '../../src/http/app.js';
import { ManifestStore } from '../../src/sources/manifest-store.js';
import { ObjectService } from '../../src/http/object-service.js';
import { WorkQueue } from '../../src/reconcile/work-queue.js';
import { readManifestDir } from '../../src/sources/manifest-dir.js';
import type { ApiResponse } from './api.js';
import { fakeLoop, type FakeLoop } from './fake-loop.js';
import { readTree, tempDir, type JsonObject } from './fixtures.js';
import { HAPROXY_BIN } from './haproxy.js';

export interface ApiApp {
  app: FastifyInstance;
  /** The manifests directory. */
  dir: string;
  loop: FakeLoop;
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Every manifest file with its text: "nothing was written" is this staying equal. */
  files(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Manifests as the API writes them: one object per file, frontends/<name>.yaml or backends/<name>.yaml. */
async function seedFiles(dir: string, docs: readonly JsonObject[]): Promise<void> {
  for (const doc of docs) {
    const folder = doc['kind'] === 'Frontend' ? 'frontends' : 'backends';
    const name = String((doc['metadata'] as JsonObject)['name']);
    await mkdir(path.join(dir, folder), { recursive: true });
    await writeFile(path.join(dir, folder, `${name}.yaml`), stringify(doc));
  }
}

/** The API over `seed` (applied before the first request); every part real but HAProxy itself. */
export async function apiApp(...seed: JsonObject[]): Promise<ApiApp> {
  const root = await tempDir('aqueduct-api-');
  const dir = path.join(root, 'manifests');
  await mkdir(dir);
  await seedFiles(dir, seed);
  const log = pino({ level: 'silent' });
  const loop = await fakeLoop({ clock: systemClock, readManifests: () => readManifestDir(dir) });
  const queue = new WorkQueue((triggers, at) => loop.reconciler.reconcile(triggers, at), {
    debounceMs: 0,
    clock: systemClock,
  });
  await loop.run('startup');
  const service = new ObjectService({
    store: new ManifestStore(dir),
    loop: loop.reconciler,
    members: () => [],
    check: (text) => checkConfigTextAt(HAPROXY_BIN, text, path.join(root, 'api-check.cfg')),
    requestApply: (trigger) => queue.add(trigger, 0),
    pairs: new StoredPairs(path.join(root, 'certificates')),
    log,
  });
  const app = await buildApp(
    { service, ledger: () => loop.reconciler.served.ledger(), system: systemOf(loop), log },
    { readOnly: false, auth: {}, bodyLimit: 1024 * 1024, waitTimeoutMs: 5000, version: '0.0.0' },
  );
  return {
    app,
    dir,
    loop,
    call: (method, url, body, headers = {}) => inject(app, method, url, body, headers),
    files: () => readTree(dir),
    close: async () => {
      queue.stop();
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function systemOf(loop: FakeLoop) {
  const r = () => loop.reconciler;
  return {
    appliedConfig: () => r().served.appliedConfig(),
    preview: (files: Parameters<FakeLoop['reconciler']['candidates']['preview']>[0]) => r().candidates.preview(files),
    generationConfig: (seq: number) => r().served.generationConfig(seq),
    access: { readOnly: false, readToken: false, writeToken: false },
    ready: () => r().served.status().ready,
    lastApply: () => r().served.ledger().at(-1),
  };
}

async function inject(
  app: FastifyInstance,
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await app.inject({
    method: method as 'GET',
    url,
    headers: { ...(payload !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(payload !== undefined && { payload }),
  });
  const text = res.body;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text answers (the config) stay text
  }
  return { status: res.statusCode, body: parsed, text, headers: new Headers(res.headers as Record<string, string>) };
}

/** Runs test against a fresh app over seed (after setup, when given), and removes the app whatever happens. */
export async function withApiApp(
  seed: readonly JsonObject[],
  ...steps:
    [test: (a: ApiApp) => Promise<void>] | [setup: (a: ApiApp) => Promise<void>, test: (a: ApiApp) => Promise<void>]
): Promise<void> {
  const a = await apiApp(...seed);
  try {
    for (const step of steps) await step(a);
  } finally {
    await a.close();
  }
}
