// `aqueduct registry`: a small service registry with Thalassa's HTTP API
// (same routes and shapes) that publishes online/offline over socket.io.
// For quick starts and tests: no Redis. In memory, optionally persisted to a
// JSON file so a restart keeps what was registered.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Server as SocketIoServer } from 'socket.io';
import { RegistrationStore } from './registration-store.js';
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
  log: Logger;
}

export interface RegistryServer {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

type RegParams = { name: string; version: string; host: string; port: string };

export async function startRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const { log } = opts;
  const store = new RegistrationStore(opts.defaultTtlSeconds);
  if (opts.persistFile !== undefined) {
    const saved = await readJson<unknown[]>(opts.persistFile);
    if (Array.isArray(saved)) log.info({ loaded: store.load(saved), file: opts.persistFile }, 'registrations loaded');
  }
  // Persist after changes, coalesced: a burst of check-ins is one write.
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    if (opts.persistFile === undefined || saveTimer !== undefined) return;
    const file = opts.persistFile;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      saving = saving.then(() =>
        writeJsonAtomic(file, store.dump()).catch((err: unknown) =>
          log.error({ err: (err as Error).message }, 'persisting registrations failed'),
        ),
      );
    }, 200);
  };

  const app = Fastify({
    loggerInstance: log.child({ component: 'registry' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  const io = new SocketIoServer(app.server, { serveClient: false });
  const publishOffline = (id: string) => {
    io.emit('offline', id);
    log.info({ id }, 'offline');
  };

  app.get('/registrations', async () => store.list());
  app.get<{ Params: { name: string } }>('/registrations/:name', async (req) => store.list(req.params.name));
  app.get<{ Params: { name: string; version: string } }>('/registrations/:name/:version', async (req) =>
    store.list(req.params.name, req.params.version),
  );
  app.post<{ Params: RegParams }>('/registrations/:name/:version/:host/:port', async (req, reply) => {
    const { name, version, host } = req.params;
    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const result = store.register({ name, version, host, port: Number(req.params.port) }, body, Date.now());
    if (result.registration === undefined)
      return reply.code(400).send({ statusCode: 400, code: 'invalid_value', message: result.problem });
    io.emit('online', result.registration); // every check-in, as Thalassa publishes
    save();
    return result.registration;
  });
  app.delete<{ Params: RegParams }>('/registrations/:name/:version/:host/:port', async (req) => {
    const { name, version, host, port } = req.params;
    const id = registrationId({ name, version, host, port: Number(port) });
    if (store.deregister(id)) {
      publishOffline(id);
      save();
    }
    return { id, deleted: true };
  });

  const reaper = setInterval(() => {
    const gone = store.reap(Date.now());
    for (const id of gone) publishOffline(id);
    if (gone.length > 0) save();
  }, opts.reapIntervalMs);

  await app.listen({ host: opts.host, port: opts.port });
  const url = httpUrl(opts.host, opts.port);
  log.info({ url }, 'registry listening (Thalassa HTTP API, events over socket.io)');
  return {
    app,
    url,
    async stop() {
      clearInterval(reaper);
      if (saveTimer !== undefined) {
        clearTimeout(saveTimer);
        saveTimer = undefined;
        if (opts.persistFile !== undefined) await writeJsonAtomic(opts.persistFile, store.dump());
      }
      await saving;
      await io.close();
      await app.close().catch(() => undefined);
    },
  };
}
