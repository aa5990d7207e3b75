// Routes about the loop rather than one object: the served config, the
// status overview, health probes and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { objectId } from '../../core/api-objects.js';
import type { ApplyRecord } from '../../reconcile/reconciler.js';
import { ApiError } from '../errors.js';
import type { ObjectService } from '../object-service.js';
import { openApiDocument } from '../openapi.js';

/** What the system routes read from the loop. */
export interface SystemView {
  /** The config HAProxy serves, once something was applied. */
  appliedConfig(): string | undefined;
  /** True once the first apply succeeded. */
  ready(): boolean;
  lastApply(): ApplyRecord | undefined;
  /** Extra parts of the overview (registry state and the like). */
  extra?(): Record<string, unknown>;
}

export function registerSystemRoutes(
  app: FastifyInstance,
  service: ObjectService,
  system: SystemView,
  version: string,
): void {
  app.get('/haproxy/config', async (_req, reply) => {
    const config = system.appliedConfig();
    if (config === undefined) throw new ApiError('not_found', 'no config has been applied yet');
    return reply.type('text/plain; charset=utf-8').send(config);
  });

  app.get('/status', async () => {
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
      ...system.extra?.(),
    };
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const ready = system.ready();
    return reply.code(ready ? 200 : 503).send({ ok: ready, ready });
  });

  const doc = openApiDocument(version);
  app.get('/openapi.json', async () => doc);
}
