// What the object routes share: a request naming an object, and the GET and
// write handlers the certificate routes reuse (answers, ETags, ?wait=applied).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kind } from '../../core/manifests/model.js';
import type { Preconditions, WriteResult } from '../object-service.js';

export type NameRequest = FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string | undefined> }>;

export interface ObjectHandlers {
  getOne(kind: Kind, req: NameRequest, reply: FastifyReply): Promise<unknown>;
  /** Runs a write, then answers with the object (and waits for HAProxy when asked). */
  write(
    kind: Kind,
    req: NameRequest,
    reply: FastifyReply,
    run: (pre: Preconditions) => Promise<WriteResult>,
  ): Promise<unknown>;
}
