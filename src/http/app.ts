// The REST API as a fastify app: built here without listening, so tests can
// also drive it with inject(); main.ts listens. Cross-cutting parts live
// here: body parsing, auth, read-only mode and the error mapping.
import { isUiPath, registerUiRoutes } from './routes/ui.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { openApiOptions } from './openapi.js';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthPolicy } from './auth.js';
import {
  bearerFromProtocols,
  changesState,
  checkAccess,
  firstHeader,
  jsonTooDeep,
  loopbackTrustDecides,
  MAX_JSON_DEPTH,
} from './guards.js';
import type { RelayDetector } from './relay-detector.js';
import os from 'node:os';
import { ApiError } from './errors.js';
import type { ObjectService } from './object-service.js';
import { registerObjectRoutes } from './routes/objects.js';
import { registerSystemRoutes, type SystemView } from './routes/system.js';
import { registerObserveRoutes } from './routes/observe.js';
import { registerStreamRoutes } from './routes/stream.js';
import type { StatsPoller } from '../haproxy/stats-poller.js';
import type { ActivityFeed } from '../observe/activity.js';
import type { Metrics } from '../observe/metrics.js';
import type { ApplyRecord } from '../reconcile/reconciler.js';

export interface ApiOptions {
  readOnly: boolean;
  auth: AuthPolicy;
  /** --insecureOpenWrites: writes without a token from any peer (default: loopback peers only). */
  openWrites?: boolean;
  /** Browser origins allowed to write and open the stream, besides the API's own. */
  allowedOrigins?: readonly string[];
  /** Host names loopback peers may use besides loopback names. */
  allowedHosts?: readonly string[];
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Longest wait of ?wait=applied when the request names no timeout, ms. */
  waitTimeoutMs: number;
  version: string;
  /** The built dashboard to serve at /; none when undefined. */
  uiDir?: string;
}

export interface ApiDeps {
  service: ObjectService;
  system: SystemView;
  /** The apply ledger, oldest first. */
  ledger: () => readonly ApplyRecord[];
  /** Stats, activity and metrics; without them only /applies of the observe routes is served. */
  observe?: { poller: StatsPoller; activity: ActivityFeed; metrics: Metrics; maxBufferedBytes: number };
  /** Told the code of every request refused as invalid input (for metrics). */
  onRejected?: (code: string) => void;
  /** Tells connections HAProxy opened from others (tokenless loopback writes need it); none: no connection is relayed (inject tests). */
  relay?: RelayDetector;
  log: Logger;
}

/** Probes answer without a token: a kubelet has none. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/** Maps fastify's own errors (body too large, bad content) to ours. */
function asApiError(err: FastifyError | ApiError): ApiError {
  if (err instanceof ApiError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', `the request body is larger than the limit: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type', err.message);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalid_body', err.message);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
    return new ApiError('invalid_body', err.message);
  return new ApiError('internal', `internal error: ${err.message}`);
}

/** Requests Node's HTTP parser refuses (headers too large, malformed) get the API's error shape too. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const api = tooLarge
    ? new ApiError('headers_too_large', 'the request line or headers are larger than the server accepts (16 KiB)')
    : new ApiError('invalid_request', `the request is not valid HTTP: ${err.message}`);
  const body = JSON.stringify(api.body());
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${api.statusCode} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  else socket.destroy();
}

/**
 * A refused WebSocket upgrade's socket belongs to no HTTP response cycle: the
 * server handed it over for the upgrade. Left alone it stays open (CLOSE-WAIT)
 * for ever, so anyone could exhaust the process's descriptors and hold up its
 * shutdown. Answer, then close it.
 */
function closeRefusedUpgrade(req: FastifyRequest, reply: FastifyReply): void {
  if (req.headers.upgrade === undefined) return;
  void reply.header('connection', 'close');
  reply.raw.once('finish', () => req.raw.socket.destroy());
}

export async function buildApp(deps: ApiDeps, opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps fastify's generics at their defaults.
    // Fastify's info lines ("Server listening at ...") repeat Aqueduct's own: below debug, it says only warnings.
    loggerInstance: deps.log.child(
      { component: 'api' },
      { level: deps.log.isLevelEnabled('debug') ? deps.log.level : 'warn' },
    ) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    // Names of any length reach validation (a 400 that says what a name may be), up to what Node's parser takes.
    routerOptions: { maxParamLength: 16 * 1024 },
    clientErrorHandler: answerClientError,
  });

  parseEveryBodyAsJson(app);
  guardAccess(app, opts, deps.relay);
  answerErrors(app, deps);
  // The route schemas are documentation, read by @fastify/swagger: bodies are validated by the
  // object service against schemas/ (with its own precise messages), and replies are sent as
  // JSON.stringify makes them, not reshaped by a compiled serializer.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, openApiOptions(opts.version));
  // Swagger UI's own assets, from its package: works with no internet.
  await app.register(swaggerUi, { routePrefix: '/docs' });
  if (opts.uiDir !== undefined) await registerUiRoutes(app, opts.uiDir);
  registerObjectRoutes(app, deps.service, opts);
  registerSystemRoutes(app, deps.service, deps.system);
  registerObserveRoutes(app, deps.ledger, deps.observe?.metrics);
  if (deps.observe !== undefined)
    await registerStreamRoutes(app, deps.observe.poller, deps.observe.activity, {
      maxBufferedBytes: deps.observe.maxBufferedBytes,
    });
  return app;
}

/**
 * Every body is read as JSON whatever its Content-Type: clients of the
 * original (curl -d among them) do not always send application/json.
 */
function parseEveryBodyAsJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonTooDeep(text))
      return done(new ApiError('invalid_body', `the body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(new ApiError('invalid_json', `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}

/** Tokens, origins, hosts and --readOnly, checked before any route runs (src/http/guards.ts decides). */
function guardAccess(app: FastifyInstance, opts: ApiOptions, relay: RelayDetector | undefined): void {
  const access = {
    auth: opts.auth,
    openWrites: opts.openWrites ?? false,
    allowedOrigins: opts.allowedOrigins ?? [],
    // This machine's own name cannot be a rebinding attacker's: the attacker needs a name of their own.
    allowedHosts: [...(opts.allowedHosts ?? []), os.hostname()].map((h) => h.toLowerCase()),
  };
  // Asked once per connection (keep-alive requests share the answer), and only when trust depends on it.
  const relayed = new WeakMap<object, Promise<boolean>>();
  const askRelay = (socket: FastifyRequest['socket']): Promise<boolean> => {
    if (relay === undefined) return Promise.resolve(false);
    const known = relayed.get(socket) ?? relay.relayedByHaproxy(socket);
    relayed.set(socket, known);
    return known;
  };
  app.addHook('onRequest', async (req, reply) => {
    const urlPath = req.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(urlPath) || (req.method === 'GET' && isUiPath(urlPath))) return;
    const write = changesState(req.method, urlPath);
    const header = (name: string) => firstHeader(req.headers, name);
    const peer = req.socket.remoteAddress;
    const relayedHere = loopbackTrustDecides(access, req.method, peer) ? await askRelay(req.socket) : false;
    try {
      checkAccess(access, {
        relayed: relayedHere,
        method: req.method,
        path: urlPath,
        peer,
        host: header('host'),
        origin: header('origin'),
        fetchSite: header('sec-fetch-site'),
        contentType: header('content-type'),
        authorization: header('authorization') ?? bearerFromProtocols(header('sec-websocket-protocol')),
        upgrade: (header('upgrade') ?? '').toLowerCase() === 'websocket',
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'unauthorized')
        void reply.header('WWW-Authenticate', 'Bearer realm="aqueduct"');
      throw err;
    }
    if (write && opts.readOnly) {
      void reply.header('Allow', 'GET, HEAD');
      throw new ApiError(
        'read_only',
        'this Aqueduct runs with --readOnly: its manifests directory is owned by git (or another writer); change the manifests there',
      );
    }
  });
}

/** Every error as the API's JSON error body, with its status from the one table. */
function answerErrors(app: FastifyInstance, deps: ApiDeps): void {
  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const api = asApiError(err);
    closeRefusedUpgrade(req, reply);
    // 400 and 413 are the refused inputs (every 400 code names a bad field, body or config).
    if (api.statusCode === 400 || api.statusCode === 413) deps.onRejected?.(api.code);
    if (api.code === 'internal') req.log.error({ err: err.message, url: req.url }, 'API request failed');
    void reply.code(api.statusCode).type('application/json').send(api.body());
  });
  app.setNotFoundHandler((req, reply) => {
    closeRefusedUpgrade(req, reply);
    const api = new ApiError('not_found', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`);
    void reply.code(api.statusCode).send(api.body());
  });
}
