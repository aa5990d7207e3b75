// `aqueduct registry`: a small service registry with Thalassa's HTTP API
// (same routes and shapes) that publishes online/offline over socket.io.
// For quick starts and tests: no Redis. In memory, optionally persisted to a
// JSON file so a restart keeps what was registered.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { every, type Clock } from '../clock.js';
import { Server as SocketIoServer } from 'socket.io';
import { RegistrationStore, type StoreLimits } from './registration-store.js';
import { checkBrowserWrite, firstHeader } from '../http/guards.js';
import type { ApiError } from '../http/errors.js';
import { registrationId } from '../core/registry/members.js';
import { httpUrl } from '../sources/registry/registry-http.js';
import { readJson, writeJsonAtomic } from '../files/atomic.js';

export interface RegistryServerOptions {
  host: string;
  port: number;
  /** Time to live of a registration that names none, seconds (Thalassa's default is 10). */
  defaultTtlSeconds: number;
  reapIntervalMs: number;
  persistFile?: string;
  /** Caps on what registrants may store (default DEFAULT_STORE_LIMITS). */
  limits?: StoreLimits;
  log: Logger;
  clock: Clock;
}

export interface RegistryServer {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

type RegParams = { name: string; version: string; host: string; port: string };

/** Saves the store after changes, coalesced (a burst of check-ins is one write); flush writes what is pending. */
function persistence(store: RegistrationStore, opts: RegistryServerOptions) {
  const { log, clock } = opts;
  let cancel: (() => void) | undefined;
  let saving: Promise<void> = Promise.resolve();
  const write = (file: string) =>
    writeJsonAtomic(file, store.dump()).catch((err: unknown) =>
      log.error({ err: (err as Error).message }, 'persisting registrations failed'),
    );
  return {
    save(): void {
      const file = opts.persistFile;
      if (file === undefined || cancel !== undefined) return;
      cancel = clock.after(200, () => {
        cancel = undefined;
        saving = saving.then(() => write(file));
      });
    },
    async flush(): Promise<void> {
      if (cancel !== undefined && opts.persistFile !== undefined) {
        cancel();
        cancel = undefined;
        await writeJsonAtomic(opts.persistFile, store.dump());
      }
      await saving;
    },
  };
}

/** Thalassa's registration routes, publishing online (every check-in, as Thalassa does) and offline. */
function registrationRoutes(
  app: FastifyInstance,
  store: RegistrationStore,
  events: { online(r: unknown): void; offline(id: string): void; changed(): void },
  clock: Clock,
): void {
  app.get('/registrations', async () => store.list());
  app.get<{ Params: { name: string } }>('/registrations/:name', async (req) => store.list(req.params.name));
  app.get<{ Params: { name: string; version: string } }>('/registrations/:name/:version', async (req) =>
    store.list(req.params.name, req.params.version),
  );
  app.post<{ Params: RegParams }>('/registrations/:name/:version/:host/:port', async (req, reply) => {
    const { name, version, host } = req.params;
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const result = store.register({ name, version, host, port: Number(req.params.port) }, body, clock.now());
    if (result.full === true)
      return reply.code(429).send({ statusCode: 429, code: 'registry_full', message: result.problem });
    if (result.registration === undefined)
      return reply.code(400).send({ statusCode: 400, code: 'invalid_value', message: result.problem });
    events.online(result.registration);
    events.changed();
    return result.registration;
  });
  app.delete<{ Params: RegParams }>('/registrations/:name/:version/:host/:port', async (req) => {
    const { name, version, host, port } = req.params;
    const id = registrationId({ name, version, host, port: Number(port) });
    if (store.deregister(id)) {
      events.offline(id);
      events.changed();
    }
    return { id, deleted: true };
  });
}

/**
 * Like the API, the registry takes writes without a token (Thalassa's
 * protocol has none), so a web page must not be able to send them: a
 * browser's cross-site POST (even a no-cors text/plain one) is refused.
 */
function refuseCrossSiteWrites(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const header = (name: string) => firstHeader(req.headers, name);
    try {
      checkBrowserWrite({
        method: req.method,
        origin: header('origin'),
        fetchSite: header('sec-fetch-site'),
        host: header('host'),
        contentType: header('content-type'),
        upgrade: false,
      });
    } catch (err) {
      const e = err as ApiError;
      return reply.code(e.statusCode).send({ statusCode: e.statusCode, code: e.code, message: e.message });
    }
  });
}

export async function startRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const { log, clock } = opts;
  const store = new RegistrationStore(opts.defaultTtlSeconds, opts.limits);
  if (opts.persistFile !== undefined) {
    const saved = await readJson<unknown[]>(opts.persistFile);
    if (Array.isArray(saved)) log.info({ loaded: store.load(saved), file: opts.persistFile }, 'registrations loaded');
  }
  const persisted = persistence(store, opts);
  const app = Fastify({
    loggerInstance: log.child({ component: 'registry' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A registration's meta is at most 16 KB (registration-limits.ts): no body needs more.
    bodyLimit: 64 * 1024,
  });
  refuseCrossSiteWrites(app);
  const io = new SocketIoServer(app.server, { serveClient: false });
  const events = {
    online: (r: unknown) => io.emit('online', r),
    offline: (id: string) => {
      io.emit('offline', id);
      log.info({ id }, 'offline');
    },
    changed: () => persisted.save(),
  };
  registrationRoutes(app, store, events, clock);
  const stopReaper = every(clock, opts.reapIntervalMs, () => {
    const gone = store.reap(clock.now());
    for (const id of gone) events.offline(id);
    if (gone.length > 0) persisted.save();
  });
  await app.listen({ host: opts.host, port: opts.port });
  const url = httpUrl(opts.host, opts.port);
  log.info({ url }, 'registry listening (Thalassa HTTP API, events over socket.io)');
  return {
    app,
    url,
    async stop() {
      stopReaper();
      await persisted.flush();
      await io.close();
      await app.close().catch(() => undefined);
    },
  };
}
