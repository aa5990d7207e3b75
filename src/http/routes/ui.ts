// The dashboard: its page at / for browsers, its bundled assets under /ui/.
// They hold no data (the page reads the API with the person's token), so they
// are served without one: a token-protected Aqueduct can still show the page
// that asks for it.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../errors.js';

export const UI_PREFIX = '/ui/';

/** Paths of the page and its assets, which need no token. */
export const isUiPath = (urlPath: string): boolean => urlPath === '/' || urlPath.startsWith(UI_PREFIX);

export async function registerUiRoutes(app: FastifyInstance, uiDir: string): Promise<void> {
  const built = existsSync(path.join(uiDir, 'index.html'));
  if (built) await app.register(fastifyStatic, { root: uiDir, prefix: UI_PREFIX, index: false });
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    // API clients keep the original's answer to /: no such route.
    if (!(req.headers.accept ?? '').includes('text/html')) throw new ApiError('not_found', 'no route GET /');
    if (!built) throw new ApiError('not_found', 'the dashboard is not built (npm run build)');
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}
