// Validation against the JSON Schemas in schemas/, the single definition of
// the manifest format (compiled at build time), with ajv errors turned into
// messages a person reads.
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import * as compiled from './generated/validators.js';
import commonSchema from '../../../schemas/common.schema.json' with { type: 'json' };
import frontendSchema from '../../../schemas/frontend.schema.json' with { type: 'json' };
import backendSchema from '../../../schemas/backend.schema.json' with { type: 'json' };
import certificateSchema from '../../../schemas/certificate.schema.json' with { type: 'json' };
import membersSchema from '../../../schemas/members.schema.json' with { type: 'json' };
import registrationSchema from '../../../schemas/registration.schema.json' with { type: 'json' };
import type { Issue, IssueCode } from '../issues.js';
import type { BackendManifest, CertificateManifest, FrontendManifest, MemberMap, Registration } from './model.js';

/** Names the schemas the validators were compiled from (a stored parse is only good for the same ones). */
export const SCHEMAS_DIGEST: string = compiled.SCHEMAS_DIGEST;

export const SCHEMAS = {
  common: commonSchema,
  frontend: frontendSchema,
  backend: backendSchema,
  certificate: certificateSchema,
  members: membersSchema,
  registration: registrationSchema,
} as const;

// Compiled at build time from the same schemas (scripts/gen-validators.mjs, ajv standalone): a start
// loads them instead of compiling six schemas.
// The generated module is untyped code: each export is the ValidateFunction ajv would have compiled.
const typed = <T = unknown>(fn: unknown): ValidateFunction<T> => fn as ValidateFunction<T>;
const validators = {
  Frontend: typed<FrontendManifest>(compiled.Frontend),
  Backend: typed<BackendManifest>(compiled.Backend),
  Certificate: typed<CertificateManifest>(compiled.Certificate),
  members: typed<MemberMap>(compiled.members),
  registration: typed<Registration>(compiled.registration),
  frontendSpec: typed(compiled.frontendSpec),
  backendSpec: typed(compiled.backendSpec),
};

export interface Validated<T> {
  value?: T;
  issues: SchemaIssue[];
}

/** A path segment list as the YAML locator and the messages use it. */
export type PathSegments = (string | number)[];

/** What kind of problem a schema issue is: the API maps these to stable error codes. */
export type SchemaProblem = 'unknown-field' | 'missing-field' | 'invalid-value';

export interface SchemaIssue extends Issue {
  segments: PathSegments;
  problem: SchemaProblem;
}

const problemOf = (keyword: string): SchemaProblem =>
  keyword === 'additionalProperties' ? 'unknown-field' : keyword === 'required' ? 'missing-field' : 'invalid-value';

function run<T>(fn: ValidateFunction, raw: unknown, code: IssueCode): Validated<T> {
  // Defaults are filled in place: validate a copy so callers' data stays theirs.
  const data: unknown = structuredClone(raw);
  if (fn(data)) return { value: data as T, issues: [] };
  return { issues: describeErrors(fn.errors ?? [], code) };
}

export function validateFrontend(raw: unknown): Validated<FrontendManifest> {
  return run<FrontendManifest>(validators.Frontend, raw, 'schema');
}

export function validateBackend(raw: unknown): Validated<BackendManifest> {
  return run<BackendManifest>(validators.Backend, raw, 'schema');
}

export function validateCertificate(raw: unknown): Validated<CertificateManifest> {
  return run<CertificateManifest>(validators.Certificate, raw, 'schema');
}

/** Validates a member map (backend name → instances), e.g. a --members file or a registry snapshot. */
export function validateMemberMap(raw: unknown): Validated<MemberMap> {
  return run<MemberMap>(validators.members, raw, 'invalid-members');
}

/** A registry message's registration: checked like any input before it can become a server line. */
export function validateRegistration(raw: unknown): Validated<Registration> {
  return run(validators.registration, raw, 'invalid-members');
}

export function validateFrontendSpec(raw: unknown): Validated<FrontendManifest['spec']> {
  return run<FrontendManifest['spec']>(validators.frontendSpec, raw, 'schema');
}

export function validateBackendSpec(raw: unknown): Validated<BackendManifest['spec']> {
  return run<BackendManifest['spec']>(validators.backendSpec, raw, 'schema');
}

export function pointerToSegments(pointer: string): PathSegments {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** spec.rules[0].operation */
export function formatPath(segments: PathSegments): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

function annotation(schema: unknown, key: 'x-message' | 'x-when'): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const v = (schema as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return `${typeof v} ${String(v)}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function describeOne(e: ErrorObject): { segments: PathSegments; message: string; specific: boolean } | undefined {
  const segments = pointerToSegments(e.instancePath);
  const custom = annotation(e.parentSchema, 'x-message');
  const when = annotation(e.parentSchema, 'x-when');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
      return undefined; // the failing "then" branch reports the real problem
    case 'required': {
      const field = String(params['missingProperty']);
      const message = when === undefined ? 'is required' : `is required when ${when}`;
      return { segments: [...segments, field], message, specific: when !== undefined };
    }
    case 'additionalProperties': {
      const field = String(params['additionalProperty']);
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
      const known = Object.keys(props ?? {});
      const guess = closest(field, known);
      const hint = guess === undefined ? `allowed fields: ${known.join(', ')}` : `did you mean '${guess}'?`;
      return { segments: [...segments, field], message: `unknown field (${hint})`, specific: true };
    }
    case 'propertyNames':
      return undefined; // reported through the name's own pattern error below
  }
  if (custom !== undefined) return { segments, message: custom, specific: true };
  switch (e.keyword) {
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String).join(', ');
      return { segments, message: `must be one of: ${allowed} (got ${describeValue(e.data)})`, specific: false };
    }
    case 'const':
      return { segments, message: `must be ${JSON.stringify(params['allowedValue'])}`, specific: false };
    case 'type': {
      const hint = params['type'] === 'string' && typeof e.data === 'number' ? ' (quote it in YAML)' : '';
      return {
        segments,
        message: `must be ${String(params['type'])}, got ${describeValue(e.data)}${hint}`,
        specific: false,
      };
    }
    case 'minimum':
    case 'maximum':
      return {
        segments,
        message: `must be ${String(params['comparison'])} ${String(params['limit'])}`,
        specific: false,
      };
    case 'minLength':
      return {
        segments,
        message: params['limit'] === 1 ? 'must not be empty' : `must be at least ${String(params['limit'])} characters`,
        specific: false,
      };
    case 'maxLength':
      return { segments, message: `must be at most ${String(params['limit'])} characters`, specific: false };
    case 'maxItems':
      return { segments, message: `must have at most ${String(params['limit'])} items`, specific: false };
    case 'pattern':
      return { segments, message: 'has an invalid format', specific: false };
    case 'not':
      return { segments, message: 'is not allowed here', specific: false };
    default:
      return { segments, message: e.message ?? `fails ${e.keyword}`, specific: false };
  }
}

/** Turns ajv errors into one issue per problem, most specific message first. */
export function describeErrors(errors: readonly ErrorObject[], code: IssueCode): SchemaIssue[] {
  const byPath = new Map<
    string,
    { segments: PathSegments; messages: { text: string; specific: boolean; problem: SchemaProblem }[] }
  >();
  for (const e of errors) {
    const d = describeOne(e);
    if (d === undefined) continue;
    const key = formatPath(d.segments);
    let entry = byPath.get(key);
    if (entry === undefined) {
      entry = { segments: d.segments, messages: [] };
      byPath.set(key, entry);
    }
    entry.messages.push({ text: d.message, specific: d.specific, problem: problemOf(e.keyword) });
  }
  const issues: SchemaIssue[] = [];
  for (const [path, entry] of byPath) {
    const specific = entry.messages.filter((m) => m.specific);
    const chosen = specific.length > 0 ? specific : entry.messages;
    const seen = new Set<string>();
    for (const m of chosen) {
      if (seen.has(m.text)) continue;
      seen.add(m.text);
      issues.push({ code, path, segments: entry.segments, message: m.text, problem: m.problem });
    }
  }
  return issues;
}
