// The OpenAPI 3.1 document of the REST API, generated from the same JSON
// Schemas the loader validates with (schemas/), so the document cannot drift
// from what the server accepts. ROUTES is the list the server registers; a
// test checks the two agree.
import { SCHEMAS } from '../core/schema-validation.js';

export interface RouteDoc {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  /** Component name of the JSON request body. */
  body?: string;
  /** Component name (or 'text') of the 200 response. */
  response: string;
  write?: boolean;
  errors: number[];
}

const WRITE_ERRORS = [400, 401, 404, 405, 409, 412, 413, 415, 502, 504];

export const ROUTES: readonly RouteDoc[] = [
  { method: 'GET', url: '/frontends', summary: 'All frontends', response: 'FrontendList', errors: [401] },
  { method: 'GET', url: '/frontends/{name}', summary: 'One frontend', response: 'Frontend', errors: [401, 404] },
  {
    method: 'PUT',
    url: '/frontends/{name}',
    summary: 'Create or replace a frontend (writes frontends/<name>.yaml)',
    body: 'FrontendBody',
    response: 'Frontend',
    write: true,
    errors: WRITE_ERRORS.filter((c) => c !== 404),
  },
  {
    method: 'DELETE',
    url: '/frontends/{name}',
    summary: 'Delete a frontend (removes its manifest file)',
    response: 'Deleted',
    write: true,
    errors: WRITE_ERRORS,
  },
  {
    method: 'GET',
    url: '/backends',
    summary: 'All backends, with live members',
    response: 'BackendList',
    errors: [401],
  },
  { method: 'GET', url: '/backends/{name}', summary: 'One backend', response: 'Backend', errors: [401, 404] },
  {
    method: 'PUT',
    url: '/backends/{name}',
    summary: 'Create or replace a backend (writes backends/<name>.yaml)',
    body: 'BackendBody',
    response: 'Backend',
    write: true,
    errors: WRITE_ERRORS.filter((c) => c !== 404),
  },
  {
    method: 'POST',
    url: '/backends/{name}',
    summary:
      "Switch a dynamic backend's registry subscription ({version}), or split its traffic between versions ({versions})",
    body: 'Subscription',
    response: 'Backend',
    write: true,
    errors: WRITE_ERRORS,
  },
  {
    method: 'DELETE',
    url: '/backends/{name}',
    summary: 'Delete a backend no frontend uses',
    response: 'Deleted',
    write: true,
    errors: WRITE_ERRORS,
  },
  {
    method: 'POST',
    url: '/backends/{name}/rollout',
    summary:
      'Start a progressive rollout to another version, rolled back on its own when its error rate passes the bound',
    body: 'backend.rollout',
    response: 'Backend',
    write: true,
    errors: WRITE_ERRORS,
  },
  {
    method: 'GET',
    url: '/backends/{name}/rollout',
    summary: "A backend's rollout: its spec and recorded position (step, figures, state)",
    response: 'Rollout',
    errors: [401, 404],
  },
  {
    method: 'DELETE',
    url: '/backends/{name}/rollout',
    summary: 'Abort a rollout: the backend version takes all traffic again, the new one is drained',
    response: 'Backend',
    write: true,
    errors: WRITE_ERRORS,
  },
  {
    method: 'GET',
    url: '/backends/{name}/members',
    summary: "A backend's members (registry instances for a dynamic backend)",
    response: 'MemberList',
    errors: [401, 404],
  },
  {
    method: 'GET',
    url: '/haproxy/config',
    summary: 'The config HAProxy serves now',
    response: 'text',
    errors: [401, 404],
  },
  {
    method: 'POST',
    url: '/diff',
    summary:
      'Dry run: what serving these manifest files instead of the directory would do (plan, reasons, unified diff of the config); changes nothing, guarded as a read',
    body: 'DiffRequest',
    response: 'Diff',
    errors: [400, 401, 413],
  },
  {
    method: 'GET',
    url: '/status',
    summary: 'Every object with its status, and every problem found',
    response: 'Status',
    errors: [401],
  },
  {
    method: 'GET',
    url: '/applies',
    summary: 'The apply ledger, newest first (?limit=N, default 50)',
    response: 'ApplyList',
    errors: [400, 401],
  },
  { method: 'GET', url: '/applies/{id}', summary: 'One apply', response: 'Apply', errors: [401, 404] },
  {
    method: 'GET',
    url: '/stats',
    summary: 'HAProxy stats of every frontend, backend and server',
    response: 'StatList',
    errors: [401],
  },
  {
    method: 'GET',
    url: '/stream',
    summary: 'WebSocket: a stats snapshot, then only what changed, and the activity feed',
    response: 'StreamMessage',
    errors: [401],
  },
  { method: 'GET', url: '/metrics', summary: 'Prometheus metrics of Aqueduct itself', response: 'text', errors: [401] },
  { method: 'GET', url: '/healthz', summary: 'The process answers', response: 'Health', errors: [] },
  {
    method: 'GET',
    url: '/readyz',
    summary: 'The first apply has succeeded (503 until then)',
    response: 'Health',
    errors: [503],
  },
  { method: 'GET', url: '/openapi.json', summary: 'This document', response: 'OpenApi', errors: [] },
];

type Json = Record<string, unknown>;

/** Moves every schema's $defs into components and points the $refs there. */
function componentSchemas(): Json {
  const out: Json = {};
  const rewrite = (node: unknown, file: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n, file));
    if (node === null || typeof node !== 'object') return node;
    const copy: Json = {};
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === '$ref' && typeof v === 'string') {
        const m = /^(?:urn:aqueduct:schemas:([a-z]+))?#\/\$defs\/(.+)$/.exec(v);
        copy[k] = m === null ? v : `#/components/schemas/${m[1] ?? file}.${m[2]}`;
      } else if (k !== '$id' && k !== '$schema' && k !== '$defs') {
        copy[k] = rewrite(v, file);
      }
    }
    return copy;
  };
  for (const [file, schema] of Object.entries(SCHEMAS)) {
    const defs = (schema as { $defs?: Json }).$defs ?? {};
    for (const [name, def] of Object.entries(defs)) out[`${file}.${name}`] = rewrite(def, file);
  }
  return out;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** Fields a GET adds; a PUT accepts them when they agree with the URL. */
const ECHO = {
  id: { type: 'string', description: '<kind>/<name>; read-only' },
  _type: { type: 'string', description: 'frontend or backend; read-only' },
  key: { type: 'string', description: "the object's name; read-only" },
  status: ref('ObjectStatus'),
};

export function openApiDocument(version: string): Json {
  const paths: Json = {};
  for (const r of ROUTES) {
    const item = (paths[r.url] ??= {}) as Json;
    const responses: Json = {
      200: {
        description: 'OK',
        content:
          r.response === 'text'
            ? { 'text/plain': { schema: { type: 'string' } } }
            : { 'application/json': { schema: ref(r.response) } },
      },
    };
    for (const code of r.errors)
      responses[code] = { description: 'Error', content: { 'application/json': { schema: ref('Error') } } };
    const parameters: Json[] = [];
    if (r.url.includes('{name}'))
      parameters.push({ name: 'name', in: 'path', required: true, schema: ref('common.name') });
    if (r.write) {
      parameters.push(
        {
          name: 'If-Match',
          in: 'header',
          schema: { type: 'string' },
          description: 'ETag the object must still have (412 otherwise)',
        },
        {
          name: 'wait',
          in: 'query',
          schema: { type: 'string', enum: ['applied'] },
          description: 'answer only once HAProxy serves the change, with the apply result',
        },
        {
          name: 'timeout',
          in: 'query',
          schema: { type: 'integer', minimum: 1 },
          description: 'ms to wait with wait=applied',
        },
      );
    }
    item[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(parameters.length > 0 && { parameters }),
      ...(r.body !== undefined && {
        requestBody: { required: true, content: { 'application/json': { schema: ref(r.body) } } },
      }),
      responses,
      ...(r.write && { security: [{ bearer: [] }, {}] }),
    };
  }
  const specOf = (file: 'frontend' | 'backend'): Json => ref(`${file}.spec`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aqueduct REST API',
      version,
      description:
        'Compatible with the original Thalassa Aqueduct API. Writes go to manifest files in the manifests directory; the reconcile loop applies them.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...componentSchemas(),
        FrontendBody: { allOf: [specOf('frontend')], properties: { ...ECHO, name: { type: 'string' } } },
        BackendBody: { allOf: [specOf('backend')], properties: ECHO },
        Frontend: {
          allOf: [specOf('frontend')],
          properties: { ...ECHO, name: { type: 'string' } },
          required: ['id', '_type', 'key', 'name'],
        },
        Backend: {
          allOf: [specOf('backend')],
          properties: {
            ...ECHO,
            members: { type: 'array', items: { anyOf: [ref('backend.member'), ref('Registration')] } },
          },
          required: ['id', '_type', 'key', 'members'],
        },
        DiffRequest: {
          type: 'object',
          required: ['files'],
          properties: {
            files: {
              type: 'array',
              maxItems: 10_000,
              items: {
                type: 'object',
                required: ['path', 'text'],
                properties: {
                  path: { type: 'string', description: 'as it should appear in messages' },
                  text: { type: 'string', description: 'the YAML' },
                },
              },
            },
          },
        },
        Diff: {
          type: 'object',
          properties: {
            plan: { enum: ['noop', 'runtime', 'reload'] },
            reasons: { type: 'array', items: { type: 'string' } },
            diff: {
              type: 'string',
              description: 'unified diff from the served config to the candidate; empty if equal',
            },
            issues: { type: 'array', items: { type: 'object' } },
          },
        },
        FrontendList: { type: 'array', items: ref('Frontend') },
        BackendList: { type: 'array', items: ref('Backend') },
        MemberList: { type: 'array', items: { anyOf: [ref('backend.member'), ref('Registration')] } },
        Subscription: {
          type: 'object',
          additionalProperties: false,
          anyOf: [{ required: ['version'] }, { required: ['versions'] }],
          properties: {
            name: ref('common.registryName'),
            version: ref('common.version'),
            versions: { type: 'array', items: ref('backend.versionWeight') },
          },
        },
        Rollout: {
          type: 'object',
          properties: {
            spec: { anyOf: [ref('backend.rollout'), { type: 'null' }] },
            position: {
              type: ['object', 'null'],
              description:
                'state (progressing, aborted, complete), step, stepStartedAt, figures {requests, errors}, reason',
            },
          },
        },
        Registration: {
          type: 'object',
          properties: {
            id: { type: 'string', description: '/name/version/host/port' },
            name: { type: 'string' },
            version: { type: 'string' },
            host: { type: 'string' },
            port: { type: 'integer' },
            lastKnown: { type: 'integer', description: 'ms since the epoch' },
            meta: { type: 'object' },
          },
        },
        ObjectStatus: {
          type: 'object',
          properties: {
            generation: { type: ['string', 'null'] },
            appliedGeneration: { type: ['string', 'null'] },
            state: { enum: ['applied', 'pending', 'invalid'] },
            serving: { enum: ['current', 'previous', 'none'] },
            file: { type: ['string', 'null'] },
            issues: { type: 'array', items: { type: 'string' } },
            lastError: { type: ['string', 'null'] },
          },
        },
        Apply: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            at: { type: 'string', description: 'when it ended (ISO 8601)' },
            triggers: { type: 'array', items: { type: 'string' } },
            plan: { enum: ['noop', 'runtime', 'reload'] },
            reasons: { type: 'array', items: { type: 'string' } },
            commands: { type: 'integer' },
            durationMs: { type: 'number' },
            result: { enum: ['ok', 'failed', 'rejected', 'deferred'] },
            error: { type: 'string', description: "what went wrong, in HAProxy's words where it said something" },
            workerPid: { type: 'integer' },
            generation: { type: 'integer' },
          },
        },
        ApplyList: { type: 'array', items: ref('Apply') },
        Stat: {
          type: 'object',
          description:
            'id stat/frontend/<name>, stat/backend/<name> or stat/backend/<name>/<server>; see docs/observability.md',
        },
        StatList: { type: 'array', items: ref('Stat') },
        StreamMessage: {
          type: 'object',
          description:
            '{type: snapshot, stats, activity} first, then {type: stats, changed, removed} and {type: activity, event, ...}',
        },
        Deleted: { type: 'object', properties: { id: { type: 'string' }, deleted: { const: true } } },
        Status: { type: 'object', description: 'ready, the last apply, every object with its status, every problem' },
        Health: { type: 'object', properties: { ok: { type: 'boolean' } } },
        OpenApi: { type: 'object' },
        Error: {
          type: 'object',
          required: ['statusCode', 'code', 'message'],
          properties: {
            statusCode: { type: 'integer' },
            code: { type: 'string', description: 'stable error code, see docs/api.md' },
            message: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                properties: { code: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}
