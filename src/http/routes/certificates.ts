// /certificates: TLS certificates frontends serve (docs/tls.md).
import type { FastifyInstance } from 'fastify';
import { routeSchema, WRITE_ERRORS } from '../openapi.js';
import type { ObjectService } from '../object-service.js';
import type { NameRequest, ObjectHandlers } from './object-handlers.js';

export function registerCertificateRoutes(app: FastifyInstance, service: ObjectService, h: ObjectHandlers): void {
  app.get(
    '/certificates',
    {
      schema: routeSchema({
        operationId: 'listCertificates',
        tag: 'objects',
        summary: 'All certificates, with what each is and how it is served',
        response: 'CertificateList',
        errors: [401],
      }),
    },
    async () => (await service.list('Certificate')).map((e) => service.toApi(e)),
  );
  app.get(
    '/certificates/:name',
    {
      schema: routeSchema({
        operationId: 'getCertificate',
        tag: 'objects',
        summary: 'One certificate (never its key)',
        param: 'name',
        response: 'Certificate',
        errors: [401, 404],
      }),
    },
    (req: NameRequest, reply) => h.getOne('Certificate', req, reply),
  );
  app.put(
    '/certificates/:name',
    {
      schema: routeSchema({
        operationId: 'putCertificate',
        tag: 'objects',
        summary:
          'Create or replace a certificate: files, ACME, or an uploaded PEM pair (kept under the state directory)',
        param: 'name',
        body: 'CertificateBody',
        response: 'Certificate',
        write: true,
        errors: WRITE_ERRORS.filter((c) => c !== 404),
      }),
    },
    (req: NameRequest, reply) =>
      h.write('Certificate', req, reply, (pre) => service.put('Certificate', req.params.name, req.body, pre)),
  );
  app.delete(
    '/certificates/:name',
    {
      schema: routeSchema({
        operationId: 'deleteCertificate',
        tag: 'objects',
        summary: 'Delete a certificate (409 while a frontend serves it)',
        param: 'name',
        response: 'Deleted',
        write: true,
        errors: WRITE_ERRORS,
      }),
    },
    (req: NameRequest, reply) =>
      h.write('Certificate', req, reply, (pre) => service.remove('Certificate', req.params.name, pre)),
  );
}
