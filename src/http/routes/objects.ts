// /frontends and /backends: the original Thalassa Aqueduct's routes (and /certificates beside them).
import { routeSchema, WRITE_ERRORS, type RouteDoc } from '../openapi.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { objectId } from '../../core/manifests/api-objects.js';
import { manifestGeneration } from '../../core/manifests/identity.js';
import type { ApiRollout } from '../../core/manifests/api-shapes.js';
import type { Kind } from '../../core/manifests/model.js';
import { ApiError, fieldError, integerQuery } from '../errors.js';
import type { ObjectService, Preconditions, WriteResult } from '../object-service.js';
import { registerCertificateRoutes } from './certificates.js';
import type { NameRequest, ObjectHandlers } from './object-handlers.js';

const MAX_WAIT_MS = 300_000;

const preconditions = (req: FastifyRequest): Preconditions => {
  const header = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);
  return { ifMatch: header(req.headers['if-match']), ifNoneMatch: header(req.headers['if-none-match']) };
};

/** ?wait=applied[&timeout=ms]: how long to wait for HAProxy, or undefined for no wait. */
function waitOption(query: Record<string, string | undefined>, defaultMs: number): number | undefined {
  const { wait, timeout } = query;
  if (wait === undefined) return undefined;
  if (wait !== 'applied') throw fieldError('wait', `must be "applied", got ${JSON.stringify(wait)}`);
  return integerQuery('timeout', timeout, 1, MAX_WAIT_MS, defaultMs);
}

const doc = (d: RouteDoc) => ({ schema: routeSchema(d) });
const writeErrors = WRITE_ERRORS;
const createErrors = WRITE_ERRORS.filter((c) => c !== 404);

export function registerObjectRoutes(
  app: FastifyInstance,
  service: ObjectService,
  opts: { waitTimeoutMs: number },
): void {
  const h = handlers(service, opts);
  registerFrontendRoutes(app, service, h);
  registerBackendRoutes(app, service, h);
  registerRolloutRoutes(app, service, h);
  registerMemberRoutes(app, service);
  registerCertificateRoutes(app, service, h);
}

function handlers(service: ObjectService, opts: { waitTimeoutMs: number }): ObjectHandlers {
  const getOne: ObjectHandlers['getOne'] = async (kind, req, reply) => {
    const entry = await service.get(kind, req.params.name);
    if (entry.status.generation !== null) void reply.header('ETag', `"${entry.status.generation}"`);
    return service.toApi(entry);
  };
  const write: ObjectHandlers['write'] = async (kind, req, reply, run) => {
    const name = req.params.name;
    const waitMs = waitOption(req.query, opts.waitTimeoutMs); // a bad query must fail before anything is written
    const since = service.now();
    const result = await run(preconditions(req));
    const generation = result.object === undefined ? null : manifestGeneration(result.object);
    const apply =
      waitMs === undefined ? undefined : await appliedOrThrow(service, kind, req, result, generation, since, waitMs);
    if (result.object === undefined)
      return { id: objectId(kind, name), deleted: true, ...(apply !== undefined && { apply }) };
    void reply.header('ETag', `"${generation}"`);
    const entry = await service.get(kind, name);
    return { ...service.toApi(entry), ...(apply !== undefined && { apply }) };
  };
  return { getOne, write };
}

/** ?wait=applied: the apply that served the write, or the error saying why none did in time. */
async function appliedOrThrow(
  service: ObjectService,
  kind: Kind,
  req: NameRequest,
  result: WriteResult,
  generation: string | null,
  since: number,
  waitMs: number,
): Promise<unknown> {
  const waited = await service.waitApplied(kind, req.params.name, generation, since, waitMs);
  if (waited.outcome === 'failed')
    throw new ApiError(
      'apply_failed',
      `the manifest was written (${result.file}) but HAProxy does not serve it: ${waited.apply?.error ?? 'the apply failed'}`,
      [],
      { apply: waited.apply, file: result.file },
    );
  if (waited.outcome === 'held')
    throw new ApiError(
      'apply_held',
      `the manifest was written (${result.file}) and applied, but HAProxy does not serve it as declared: backend/${req.params.name} ${waited.held ?? 'is held'}`,
      [],
      { file: result.file, ...(waited.apply !== undefined && { apply: waited.apply }) },
    );
  if (waited.outcome === 'timeout')
    throw new ApiError(
      'apply_timeout',
      `the manifest was written (${result.file}) but HAProxy did not serve it within ${waitMs} ms; GET ${req.url.split('?')[0] ?? ''} shows its status`,
      [],
      { file: result.file },
    );
  return waited.apply ?? null;
}

function registerFrontendRoutes(app: FastifyInstance, service: ObjectService, { getOne, write }: ObjectHandlers): void {
  app.get(
    '/frontends',
    doc({
      operationId: 'listFrontends',
      tag: 'objects',
      summary: 'All frontends',
      response: 'FrontendList',
      errors: [401],
    }),
    async () => (await service.list('Frontend')).map((e) => service.toApi(e)),
  );
  app.get(
    '/frontends/:name',
    doc({
      operationId: 'getFrontend',
      tag: 'objects',
      summary: 'One frontend',
      param: 'name',
      response: 'Frontend',
      errors: [401, 404],
    }),
    (req: NameRequest, reply) => getOne('Frontend', req, reply),
  );
  app.put(
    '/frontends/:name',
    doc({
      operationId: 'putFrontend',
      tag: 'objects',
      summary: 'Create or replace a frontend (writes frontends/<name>.yaml)',
      param: 'name',
      body: 'FrontendBody',
      response: 'Frontend',
      write: true,
      errors: createErrors,
    }),
    (req: NameRequest, reply) =>
      write('Frontend', req, reply, (pre) => service.put('Frontend', req.params.name, req.body, pre)),
  );
  app.delete(
    '/frontends/:name',
    doc({
      operationId: 'deleteFrontend',
      tag: 'objects',
      summary: 'Delete a frontend (removes its manifest file)',
      param: 'name',
      response: 'Deleted',
      write: true,
      errors: writeErrors,
    }),
    (req: NameRequest, reply) =>
      write('Frontend', req, reply, (pre) => service.remove('Frontend', req.params.name, pre)),
  );
}

function registerBackendRoutes(app: FastifyInstance, service: ObjectService, { getOne, write }: ObjectHandlers): void {
  app.get(
    '/backends',
    doc({
      operationId: 'listBackends',
      tag: 'objects',
      summary: 'All backends, with live members',
      response: 'BackendList',
      errors: [401],
    }),
    async () => (await service.list('Backend')).map((e) => service.toApi(e)),
  );
  app.get(
    '/backends/:name',
    doc({
      operationId: 'getBackend',
      tag: 'objects',
      summary: 'One backend',
      param: 'name',
      response: 'Backend',
      errors: [401, 404],
    }),
    (req: NameRequest, reply) => getOne('Backend', req, reply),
  );
  app.put(
    '/backends/:name',
    doc({
      operationId: 'putBackend',
      tag: 'objects',
      summary: 'Create or replace a backend (writes backends/<name>.yaml)',
      param: 'name',
      body: 'BackendBody',
      response: 'Backend',
      write: true,
      errors: createErrors,
    }),
    (req: NameRequest, reply) =>
      write('Backend', req, reply, (pre) => service.put('Backend', req.params.name, req.body, pre)),
  );
  app.post(
    '/backends/:name',
    doc({
      operationId: 'switchBackendVersion',
      tag: 'deploys',
      summary:
        "Switch a dynamic backend's registry subscription ({version}), or split its traffic between versions ({versions})",
      param: 'name',
      body: 'Subscription',
      response: 'Backend',
      write: true,
      errors: writeErrors,
    }),
    (req: NameRequest, reply) =>
      write('Backend', req, reply, (pre) => service.resubscribe(req.params.name, req.body, pre)),
  );
  app.delete(
    '/backends/:name',
    doc({
      operationId: 'deleteBackend',
      tag: 'objects',
      summary: 'Delete a backend no frontend uses',
      param: 'name',
      response: 'Deleted',
      write: true,
      errors: writeErrors,
    }),
    (req: NameRequest, reply) => write('Backend', req, reply, (pre) => service.remove('Backend', req.params.name, pre)),
  );
}

function registerRolloutRoutes(app: FastifyInstance, service: ObjectService, { write }: ObjectHandlers): void {
  app.post(
    '/backends/:name/rollout',
    doc({
      operationId: 'startRollout',
      tag: 'deploys',
      summary:
        'Start a progressive rollout to another version, rolled back on its own when its error rate passes the bound',
      param: 'name',
      body: 'backend.rollout',
      response: 'Backend',
      write: true,
      errors: writeErrors,
    }),
    (req: NameRequest, reply) =>
      write('Backend', req, reply, (pre) => service.startRollout(req.params.name, req.body, pre)),
  );
  app.delete(
    '/backends/:name/rollout',
    doc({
      operationId: 'abortRollout',
      tag: 'deploys',
      summary: 'Abort a rollout: the backend version takes all traffic again, the new one is drained',
      param: 'name',
      response: 'Backend',
      write: true,
      errors: writeErrors,
    }),
    (req: NameRequest, reply) => write('Backend', req, reply, (pre) => service.abortRollout(req.params.name, pre)),
  );
  app.get(
    '/backends/:name/rollout',
    doc({
      operationId: 'getRollout',
      tag: 'deploys',
      summary: "A backend's rollout: its spec and recorded position (step, figures, state)",
      param: 'name',
      response: 'Rollout',
      errors: [401, 404],
    }),
    async (req: NameRequest): Promise<ApiRollout> => {
      const entry = await service.get('Backend', req.params.name);
      const rollout = entry.manifest.kind === 'Backend' ? entry.manifest.spec.rollout : undefined;
      const position = service.deployStatus(req.params.name).rollout;
      if (rollout === undefined && position === undefined)
        throw new ApiError('no_rollout', `backend/${req.params.name} has no rollout`);
      return { spec: rollout ?? null, position: position ?? null };
    },
  );
}

function registerMemberRoutes(app: FastifyInstance, service: ObjectService): void {
  app.get(
    '/backends/:name/members',
    doc({
      operationId: 'listMembers',
      tag: 'objects',
      summary: "A backend's members (registry instances for a dynamic backend)",
      param: 'name',
      response: 'MemberList',
      errors: [401, 404],
    }),
    async (req: NameRequest) => {
      const entry = await service.get('Backend', req.params.name);
      const api = service.toApi(entry);
      return 'members' in api ? api.members : [];
    },
  );
}
