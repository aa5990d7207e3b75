// The apply ledger (GET /applies, /applies/{id}) and Prometheus metrics.
import { routeSchema } from '../openapi.js';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observe/metrics.js';
import type { ApplyRecord } from '../../reconcile/reconciler.js';
import { ApiError, integerQuery } from '../errors.js';

const MAX_LIMIT = 200;

export function registerObserveRoutes(
  app: FastifyInstance,
  ledger: () => readonly ApplyRecord[],
  metrics: Metrics | undefined,
): void {
  /** Newest first; ?limit=N (default 50, at most the ledger's 200). */
  app.get<{ Querystring: { limit?: string } }>(
    '/applies',
    {
      schema: routeSchema({
        operationId: 'listApplies',
        tag: 'observe',
        summary: 'The apply ledger, newest first',
        query: {
          limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: 'at most this many (default 50)' },
        },
        response: 'ApplyList',
        errors: [400, 401],
      }),
    },
    async (req) => {
      const limit = integerQuery('limit', req.query.limit, 1, MAX_LIMIT, 50);
      return [...ledger()].reverse().slice(0, limit);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/applies/:id',
    {
      schema: routeSchema({
        operationId: 'getApply',
        tag: 'observe',
        summary: 'One apply',
        param: 'id',
        response: 'Apply',
        errors: [401, 404],
      }),
    },
    async (req) => {
      const record = ledger().find((r) => String(r.id) === req.params.id);
      if (record === undefined)
        throw new ApiError('not_found', `apply ${req.params.id} is not in the ledger (it keeps the last ${MAX_LIMIT})`);
      return record;
    },
  );

  app.get(
    '/metrics',
    {
      schema: routeSchema({
        operationId: 'getMetrics',
        tag: 'observe',
        summary: 'Prometheus metrics of Aqueduct itself',
        response: 'text',
        errors: [401, 404],
      }),
    },
    async (_req, reply) => {
      if (metrics === undefined) throw new ApiError('not_found', 'metrics are not enabled');
      const { contentType, body } = await metrics.text();
      return reply.type(contentType).send(body);
    },
  );
}
