// Routes about the loop rather than one object: the served config, the
// status overview, health probes and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { objectId } from '../../core/manifests/api-objects.js';
import type { ApiStatus, ApiStatusExtra } from '../../core/manifests/api-shapes.js';
import type { ConfigDiff } from '../../core/planning/config-diff.js';
import { parseManifestFile, type LocatedManifest, type ManifestFile } from '../../core/manifests/manifests.js';
import type { Issue } from '../../core/issues.js';
import { setImmediate } from 'node:timers/promises';
import type { ApplyRecord } from '../../reconcile/reconciler.js';
import { ApiError } from '../errors.js';
import type { ObjectService } from '../object-service.js';
import { routeSchema, type RouteDoc } from '../openapi.js';

/** What the system routes read from the loop. */
export interface SystemView {
  /** The config HAProxy serves, once something was applied. */
  appliedConfig(): string | undefined;
  /** True once the first apply succeeded. */
  ready(): boolean;
  lastApply(): ApplyRecord | undefined;
  /** Extra parts of the overview (registry state and the like). */
  extra?(): Promise<ApiStatusExtra>;
  /** The config of an applied generation, while the history keeps it. */
  generationConfig(seq: number): Promise<string | undefined>;
  /** What the API lets a client do, for the dashboard. */
  access: { readOnly: boolean; readToken: boolean; writeToken: boolean };
  /** What serving these parsed manifest files instead of the directory would change (a dry run). */
  preview(read: { manifests: readonly LocatedManifest[]; issues: readonly Issue[] }): ConfigDiff;
}

const MAX_DIFF_FILES = 10_000;
/**
 * The largest file a dry run parses. YAML parses at about 0.5 MB/s here
 * (bench/request-cost.bench.ts): 32 KiB holds the event loop ~50 ms, 64 KiB
 * ~100-150 ms; files are parsed one at a time with a turn of the event
 * loop between them, so no file may hold /healthz past 250 ms.
 */
export const MAX_DIFF_FILE_BYTES = 64 * 1024;
/** The most YAML one dry run takes: rendering and diffing 2 MiB of it holds the loop ~120-210 ms, past it more than 250. */
export const MAX_DIFF_TOTAL_BYTES = 2 * 1024 * 1024;

/** Parses the files one at a time, letting the event loop run between them. */
async function parseYielding(files: readonly ManifestFile[]) {
  const parsed: ReturnType<typeof parseManifestFile>[] = [];
  for (const file of files) {
    parsed.push(parseManifestFile(file));
    await setImmediate();
  }
  return { manifests: parsed.flatMap((p) => p.manifests), issues: parsed.flatMap((p) => p.issues) };
}

/** The body of POST /diff: {files: [{path, text}]}, checked by hand as it is not a manifest. */
function diffFiles(body: unknown): ManifestFile[] {
  const files = (body as { files?: unknown } | null)?.files;
  if (!Array.isArray(files) || files.length > MAX_DIFF_FILES)
    throw new ApiError(
      'invalid_request',
      `the body must be {"files": [{"path", "text"}, ...]}, at most ${MAX_DIFF_FILES}`,
    );
  let total = 0;
  return files.map((f: unknown, i) => {
    const { path, text } = (f ?? {}) as { path?: unknown; text?: unknown };
    if (typeof path !== 'string' || typeof text !== 'string')
      throw new ApiError('invalid_request', `files[${i}] must have a string path and a string text`);
    if (text.length > MAX_DIFF_FILE_BYTES)
      throw new ApiError(
        'payload_too_large',
        `files[${i}] (${path}) is larger than ${MAX_DIFF_FILE_BYTES} bytes: a dry run parses at most that much YAML at a time; split the file`,
      );
    total += text.length;
    if (total > MAX_DIFF_TOTAL_BYTES)
      throw new ApiError(
        'payload_too_large',
        `the files hold more than ${MAX_DIFF_TOTAL_BYTES} bytes of YAML: diff a part of the directory at a time`,
      );
    return { path, text };
  });
}

const doc = (d: Omit<RouteDoc, 'tag'>) => ({ schema: routeSchema({ ...d, tag: 'system' }) });

export function registerSystemRoutes(app: FastifyInstance, service: ObjectService, system: SystemView): void {
  registerConfigRoutes(app, system);
  registerStatusRoutes(app, service, system);
}

/** The served config, past generations, and the dry run. */
function registerConfigRoutes(app: FastifyInstance, system: SystemView): void {
  app.get(
    '/haproxy/config',
    doc({
      operationId: 'getHaproxyConfig',
      summary: 'The config HAProxy serves now',
      response: 'text',
      errors: [401, 404],
    }),
    async (_req, reply) => {
      const config = system.appliedConfig();
      if (config === undefined) throw new ApiError('not_found', 'no config has been applied yet');
      return reply.type('text/plain; charset=utf-8').send(config);
    },
  );

  app.get<{ Params: { generation: string } }>(
    '/haproxy/generations/:generation',
    doc({
      operationId: 'getGeneration',
      summary: "The config of an applied generation (the ledger names each apply's), while the history keeps it",
      param: 'generation',
      response: 'text',
      errors: [401, 404],
    }),
    async (req, reply) => {
      const seq = Number(req.params.generation);
      const config = Number.isSafeInteger(seq) && seq > 0 ? await system.generationConfig(seq) : undefined;
      if (config === undefined)
        throw new ApiError('not_found', `generation ${req.params.generation} is not in the kept history`);
      return reply.type('text/plain; charset=utf-8').send(config);
    },
  );

  app.post(
    '/diff',
    doc({
      operationId: 'diff',
      summary:
        'Dry run: what serving these manifest files instead of the directory would do (plan, reasons, unified diff of the config); changes nothing (allowed with --readOnly) but is guarded as a write: a token where writes need one, same origin, Content-Type: application/json',
      body: 'DiffRequest',
      response: 'Diff',
      errors: [400, 401, 403, 413, 415],
    }),
    async (req) => system.preview(await parseYielding(diffFiles(req.body))),
  );
}

/** What is served and why, liveness, readiness, and this API's description. */
function registerStatusRoutes(app: FastifyInstance, service: ObjectService, system: SystemView): void {
  app.get(
    '/status',
    doc({
      operationId: 'getStatus',
      summary: 'Every object with its status, and every problem found',
      response: 'Status',
      errors: [401],
    }),
    async (): Promise<ApiStatus> => {
      const { objects, issues } = await service.overview();
      return {
        ready: system.ready(),
        lastApply: system.lastApply() ?? null,
        objects: objects.map((o) => ({
          id: objectId(o.manifest.kind, o.manifest.metadata.name),
          kind: o.manifest.kind,
          name: o.manifest.metadata.name,
          ...o.status,
        })),
        issues,
        access: system.access,
        ...(await system.extra?.()),
      };
    },
  );

  app.get(
    '/healthz',
    doc({ operationId: 'healthz', summary: 'The process answers (no token needed)', response: 'Health', errors: [] }),
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    doc({
      operationId: 'readyz',
      summary: 'The first apply has succeeded (503 until then; no token needed)',
      response: 'Health',
      errors: [503],
    }),
    async (_req, reply) => {
      const ready = system.ready();
      return reply.code(ready ? 200 : 503).send({ ok: ready, ready });
    },
  );

  app.get(
    '/openapi.json',
    doc({ operationId: 'getOpenApi', summary: 'This document', response: 'OpenApi', errors: [401] }),
    async () => app.swagger(),
  );
}
