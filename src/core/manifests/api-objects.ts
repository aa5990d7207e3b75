// The REST API's view of manifests, in the original Thalassa Aqueduct's
// shapes: objects with id, _type and key beside the spec fields, and request
// bodies turned back into manifests. Pure: the HTTP layer passes values in.
import type { Issue } from '../issues.js';
import {
  API_VERSION,
  type BackendManifest,
  type FrontendManifest,
  type Kind,
  type Manifest,
  type Metadata,
  type Registration,
} from './model.js';
import { validateBackend, validateFrontend, type SchemaIssue } from './schema-validation.js';
import type { ObjectStatus } from './object-status.js';
import { manifestGeneration } from './identity.js';

/**
 * What is wrong with a field of a request body, as data. The HTTP layer
 * (src/http/errors.ts) adds its own codes and maps each one to a status.
 */
export type FieldProblemCode =
  'invalid_body' | 'unknown_field' | 'missing_field' | 'invalid_value' | 'unknown_backend' | 'invalid_object';

export interface FieldProblem {
  code: FieldProblemCode;
  /** The field as the client sent it: "bind", "rules[0].operation"; "" for the body itself. */
  field: string;
  message: string;
}

export type { ObjectStatus } from './object-status.js';

export type { ApiBackend, ApiFrontend } from './api-shapes.js';
import type { ApiBackend, ApiFrontend, BackendStatus } from './api-shapes.js';

export const objectId = (kind: Kind, name: string): string => `${kind.toLowerCase()}/${name}`;

export function toApiFrontend(m: FrontendManifest, status?: ObjectStatus): ApiFrontend {
  const name = m.metadata.name;
  return { id: objectId('Frontend', name), _type: 'frontend', key: name, name, ...m.spec, ...(status && { status }) };
}

/** A backend as the API shows it; a dynamic backend's members are the registry's instances. */
export function toApiBackend(m: BackendManifest, registrations: readonly Registration[], status?: BackendStatus) {
  const name = m.metadata.name;
  const { members, ...spec } = m.spec;
  const api: ApiBackend = {
    id: objectId('Backend', name),
    _type: 'backend',
    key: name,
    ...spec,
    members: spec.type === 'dynamic' ? [...registrations] : members,
    ...(status && { status }),
  };
  return api;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Manifest paths back to the body's field names: spec.rules[0] → rules[0], metadata.name → name. */
function bodyField(path: string): string {
  if (path === 'metadata.name') return 'name';
  if (path.startsWith('spec.')) return path.slice('spec.'.length);
  return path === 'spec' ? '' : path;
}

export function problemsOf(issues: readonly SchemaIssue[], nameFromPath: boolean): FieldProblem[] {
  return issues.map((i) => {
    const field = bodyField(i.path);
    const code: FieldProblemCode =
      i.problem === 'unknown-field'
        ? 'unknown_field'
        : i.problem === 'missing-field'
          ? 'missing_field'
          : 'invalid_value';
    // The object's name comes from the URL: say so, the body has no such field.
    if (nameFromPath && i.path === 'metadata.name')
      return { code, field: 'name', message: `(in the URL) ${i.message}` };
    return { code, field, message: i.message };
  });
}

/** Fields a GET returns that are not part of the spec: accepted when they agree with the URL, so a GET result can be PUT back. */
function takeEchoFields(
  body: Record<string, unknown>,
  expected: Record<string, string>,
  problems: FieldProblem[],
): Record<string, unknown> {
  for (const [field, want] of Object.entries(expected)) {
    if (field in body && body[field] !== want)
      problems.push({
        code: 'invalid_value',
        field,
        message: `must be ${JSON.stringify(want)} (it names this object) or be left out; got ${JSON.stringify(body[field])}`,
      });
  }
  // status is read-only, as in Kubernetes: the server owns it.
  // hasOwn: `in` would count 'constructor', 'toString' and '__proto__' as echo fields and drop them unseen.
  return Object.fromEntries(Object.entries(body).filter(([k]) => !Object.hasOwn(expected, k) && k !== 'status'));
}

export interface BodyResult<M> {
  manifest?: M;
  problems: FieldProblem[];
}

export function notAnObject(body: unknown): FieldProblem[] {
  const got = Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body;
  return [{ code: 'invalid_body', field: '', message: `the body must be a JSON object, got ${got}` }];
}

/** PUT /frontends/{name}: the body as a manifest, or what is wrong with it. `metadata` keeps labels the file had. */
export function frontendFromBody(name: string, body: unknown, metadata?: Metadata): BodyResult<FrontendManifest> {
  if (!isPlainObject(body)) return { problems: notAnObject(body) };
  const problems: FieldProblem[] = [];
  const spec = takeEchoFields(body, { id: objectId('Frontend', name), _type: 'frontend', key: name, name }, problems);
  const raw = { apiVersion: API_VERSION, kind: 'Frontend', metadata: { ...metadata, name }, spec };
  const v = validateFrontend(raw);
  problems.push(...problemsOf(v.issues, true));
  return problems.length > 0 || v.value === undefined ? { problems } : { manifest: v.value, problems };
}

/** PUT /backends/{name}. A dynamic backend's `members` (as GET shows them) are accepted and ignored. */
export function backendFromBody(name: string, body: unknown, metadata?: Metadata): BodyResult<BackendManifest> {
  if (!isPlainObject(body)) return { problems: notAnObject(body) };
  const problems: FieldProblem[] = [];
  const spec = takeEchoFields(body, { id: objectId('Backend', name), _type: 'backend', key: name }, problems);
  if (spec['type'] === 'dynamic') delete spec['members'];
  const raw = { apiVersion: API_VERSION, kind: 'Backend', metadata: { ...metadata, name }, spec };
  const v = validateBackend(raw);
  problems.push(...problemsOf(v.issues, true));
  return problems.length > 0 || v.value === undefined ? { problems } : { manifest: v.value, problems };
}

const SUBSCRIPTION_FIELDS = ['name', 'version', 'versions', 'allowEmpty'];

/** The heaviest version of a split (the first of equals): what `version` says when only `versions` was sent. */
function heaviest(versions: unknown): string | undefined {
  if (!Array.isArray(versions)) return undefined;
  let best: { version: string; weight: number } | undefined;
  for (const v of versions as unknown[]) {
    if (!isPlainObject(v) || typeof v['version'] !== 'string' || typeof v['weight'] !== 'number') continue;
    if (best === undefined || v['weight'] > best.weight) best = { version: v['version'], weight: v['weight'] };
  }
  return best?.version;
}

/**
 * POST /backends/{name}: `{version}` or `{name, version}` switches the
 * registry subscription (as the original); `{versions: [{version, weight}]}`
 * splits traffic between versions. Either replaces a rollout in progress:
 * an explicit switch is the operator taking over.
 */
export function resubscribe(existing: BackendManifest, body: unknown): BodyResult<BackendManifest> {
  if (!isPlainObject(body)) return { problems: notAnObject(body) };
  const problems: FieldProblem[] = [];
  for (const field of Object.keys(body)) {
    if (!SUBSCRIPTION_FIELDS.includes(field))
      problems.push({
        code: 'unknown_field',
        field,
        message: `unknown field (allowed fields: ${SUBSCRIPTION_FIELDS.join(', ')})`,
      });
  }
  if (!('version' in body) && !('versions' in body))
    problems.push({ code: 'missing_field', field: 'version', message: 'is required (or versions)' });
  if (problems.length > 0) return { problems };
  const { rollout: _rollout, versions: _versions, ...kept } = existing.spec;
  const version = 'version' in body ? body['version'] : (heaviest(body['versions']) ?? existing.spec.version);
  const spec = { ...kept, ...body, version };
  const v = validateBackend({ ...existing, spec });
  problems.push(...problemsOf(v.issues, false));
  return problems.length > 0 || v.value === undefined ? { problems } : { manifest: v.value, problems };
}

/**
 * POST /backends/{name}/rollout: the body is spec.rollout (defaults filled
 * in). A rollout moves traffic from `version` to its target, so it replaces
 * a weighted split: `versions` is dropped, and the object then says what
 * HAProxy serves during and after the rollout (a rollback included).
 */
export function withRollout(existing: BackendManifest, body: unknown): BodyResult<BackendManifest> {
  if (!isPlainObject(body)) return { problems: notAnObject(body) };
  const { versions: _split, ...spec } = existing.spec;
  const v = validateBackend({ ...existing, spec: { ...spec, rollout: body } });
  const problems = problemsOf(v.issues, false).map((p) =>
    p.field.startsWith('rollout.') ? { ...p, field: p.field.slice('rollout.'.length) } : p,
  );
  return problems.length > 0 || v.value === undefined ? { problems } : { manifest: v.value, problems };
}

/** The backend without its rollout: DELETE /backends/{name}/rollout, and a completed rollout's new stable version. */
export function withoutRollout(existing: BackendManifest, version?: string): BackendManifest {
  const { rollout: _rollout, ...spec } = existing.spec;
  if (version !== undefined) {
    delete spec.versions;
    spec.version = version;
  }
  return { ...existing, spec };
}

/** Cross-object issues of the target object, as API problems: a missing backend is its own code. */
export function setProblems(issues: readonly Issue[]): FieldProblem[] {
  return issues.map((i) => ({
    code:
      i.code === 'missing-backend'
        ? 'unknown_backend'
        : i.code === 'unsafe-native'
          ? 'invalid_value'
          : 'invalid_object',
    field: bodyField(i.path),
    message: i.message,
  }));
}

/** Frontends (by name) that route to the backend, by default or by a rule. */
export function frontendsUsing(backend: string, frontends: readonly FrontendManifest[]): string[] {
  return frontends
    .filter((f) => f.spec.backend === backend || f.spec.rules.some((r) => r.backend === backend))
    .map((f) => f.metadata.name)
    .sort();
}

/** One line per problem, for the error's message. */
export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => (p.field === '' ? p.message : `${p.field}: ${p.message}`)).join('; ');
}

export interface StatusInput {
  desired?: Manifest;
  applied?: Manifest;
  file?: string;
  issues: readonly string[];
  /** Why the last apply failed, when it did. */
  lastApplyError?: string;
  /** Why the applied backend is not served as declared (see ObjectStatus.held). */
  held?: string;
}

/** The object's status from what is declared, what is served, and the problems found. */
export function objectStatus(input: StatusInput): ObjectStatus {
  const generation = input.desired === undefined ? null : manifestGeneration(input.desired);
  const appliedGeneration = input.applied === undefined ? null : manifestGeneration(input.applied);
  const serving = appliedGeneration === null ? 'none' : appliedGeneration === generation ? 'current' : 'previous';
  const invalid = input.issues.length > 0 || generation === null;
  const held = input.held ?? null;
  // Held is not served as declared: pending, with the hold as its error, until it is.
  const state = invalid ? 'invalid' : serving === 'current' && held === null ? 'applied' : 'pending';
  const lastError =
    input.issues[0] ??
    (state === 'pending' && input.lastApplyError !== undefined ? input.lastApplyError : null) ??
    (state === 'pending' ? held : null);
  return {
    generation,
    appliedGeneration,
    state,
    serving,
    file: input.file ?? null,
    issues: [...input.issues],
    lastError,
    held,
  };
}
