// The REST API's view of Certificate objects: what GET shows (what the
// certificate is and how it is served, never its key) and PUT bodies turned
// into manifests. Pure: the HTTP layer stores uploaded pairs and passes in
// the loop's certificate states.
import { inspectPair, validityAt } from '../tls/certificate.js';
import type { ApiCertificate, CertificateState, CertificateStatus } from '../tls/certificate-types.js';
import {
  isPlainObject,
  notAnObject,
  objectId,
  problemsOf,
  type BodyResult,
  type FieldProblem,
  type ObjectStatus,
} from './api-objects.js';
import { API_VERSION, type CertificateManifest, type FrontendManifest, type Metadata } from './model.js';
import { validateCertificate } from './schema-validation.js';

export type { ApiCertificate, CertificateStatus } from '../tls/certificate-types.js';

/** Frontends that serve a certificate, sorted. */
export function frontendsServing(certificate: string, frontends: readonly FrontendManifest[]): string[] {
  return frontends
    .filter((f) => f.spec.tls?.certificates.includes(certificate) === true)
    .map((f) => f.metadata.name)
    .sort();
}

function statusOf(state: CertificateState | undefined, used: boolean): CertificateStatus {
  if (state === undefined) return 'unknown';
  if (state.acme?.ordering === true && state.serving === 'current') return 'renewing';
  if (state.condition !== 'valid') return state.condition;
  return used ? 'served' : 'unused';
}

export function toApiCertificate(
  m: CertificateManifest,
  state: CertificateState | undefined,
  frontends: string[],
  status?: ObjectStatus,
): ApiCertificate {
  const name = m.metadata.name;
  const info = state?.info;
  return {
    id: objectId('Certificate', name),
    _type: 'certificate',
    key: name,
    name,
    ...m.spec,
    certificateStatus: statusOf(state, frontends.length > 0),
    message: state?.message ?? null,
    serving: state?.serving ?? null,
    frontends,
    ...(state?.acme !== undefined && { acmeOrder: state.acme }),
    ...(info && {
      subject: info.subject,
      sans: info.sans,
      issuer: info.issuer,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      fingerprint: info.fingerprint,
    }),
    ...(status && { status }),
  };
}

/** GET fields a client may send back with PUT: they describe the served certificate, not the spec. */
const READ_ONLY = new Set([
  'id',
  '_type',
  'key',
  'name',
  'status',
  'certificateStatus',
  'message',
  'serving',
  'frontends',
  'acmeOrder',
  'subject',
  'sans',
  'issuer',
  'notBefore',
  'notAfter',
  'fingerprint',
]);

/**
 * An uploaded pair (`{cert, key}`), judged before anything is stored: a
 * key that does not match, garbage, an encrypted key, or a certificate
 * outside its validity window is a 400. Undefined when the body is no upload.
 */
export function uploadProblems(body: unknown, nowMs: number): FieldProblem[] | undefined {
  if (!isPlainObject(body) || !('cert' in body || 'key' in body)) return undefined;
  const { cert, key } = body;
  if (typeof cert !== 'string' || typeof key !== 'string')
    return [
      { code: 'invalid_value', field: typeof cert !== 'string' ? 'cert' : 'key', message: 'must be a PEM string' },
    ];
  if ('certFile' in body || 'keyFile' in body || 'acme' in body)
    return [
      { code: 'invalid_value', field: '', message: 'give cert and key, certFile and keyFile, or acme: one source' },
    ];
  const pair = inspectPair(cert, key);
  if (!pair.ok) {
    const field = pair.problem === 'invalid certificate' ? 'cert' : 'key';
    return [{ code: 'invalid_value', field, message: `${pair.problem}: ${pair.message}` }];
  }
  const validity = validityAt(pair.info, nowMs);
  if (validity === 'expired')
    return [{ code: 'invalid_value', field: 'cert', message: `expired: not valid after ${pair.info.notAfter}` }];
  if (validity === 'not yet valid')
    return [{ code: 'invalid_value', field: 'cert', message: `not yet valid: not before ${pair.info.notBefore}` }];
  return [];
}

/** PUT /certificates/{name}: `{certFile, keyFile}` or `{acme}` (an upload is stored first and arrives as files). */
export function certificateFromBody(name: string, body: unknown, metadata?: Metadata): BodyResult<CertificateManifest> {
  if (!isPlainObject(body)) return { problems: notAnObject(body) };
  const spec = Object.fromEntries(Object.entries(body).filter(([k]) => !READ_ONLY.has(k)));
  const raw = { apiVersion: API_VERSION, kind: 'Certificate', metadata: { ...metadata, name }, spec };
  const v = validateCertificate(raw);
  const problems = problemsOf(v.issues, true);
  return v.value === undefined ? { problems } : { manifest: v.value, problems };
}
