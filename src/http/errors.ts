// API errors: a stable code, a message naming the field and the problem, and
// one table from code to HTTP status (DESIGN.md: "one function maps codes").
import { describeProblems, type FieldProblem, type FieldProblemCode } from '../core/manifests/api-objects.js';

/** Stable error codes of the API: a body's field problems and the HTTP layer's own. */
export type ApiErrorCode =
  | FieldProblemCode
  | 'invalid_json'
  | 'haproxy_rejected'
  | 'not_found'
  | 'in_use'
  | 'not_dynamic'
  | 'no_rollout'
  | 'shared_file'
  | 'name_conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'headers_too_large'
  | 'invalid_request'
  | 'forbidden_host'
  | 'forbidden_origin'
  | 'read_only'
  | 'storage_failed'
  | 'apply_failed'
  | 'apply_timeout'
  | 'apply_held'
  | 'internal';

const STATUS: Record<ApiErrorCode, number> = {
  invalid_json: 400,
  invalid_body: 400,
  unknown_field: 400,
  missing_field: 400,
  invalid_value: 400,
  unknown_backend: 400,
  invalid_object: 400,
  haproxy_rejected: 400,
  unauthorized: 401,
  not_found: 404,
  read_only: 405,
  in_use: 409,
  not_dynamic: 409,
  storage_failed: 503,
  forbidden_host: 403,
  headers_too_large: 431,
  invalid_request: 400,
  forbidden_origin: 403,
  no_rollout: 404,
  shared_file: 409,
  name_conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  apply_failed: 502,
  apply_timeout: 504,
  apply_held: 409,
};

export const statusOf = (code: ApiErrorCode): number => STATUS[code];

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: ApiErrorCode;
  message: string;
  errors?: FieldProblem[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly errors: readonly FieldProblem[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get statusCode(): number {
    return statusOf(this.code);
  }

  body(): ErrorBody {
    return {
      statusCode: this.statusCode,
      code: this.code,
      message: this.message,
      ...(this.errors.length > 0 && { errors: [...this.errors] }),
      ...this.extra,
    };
  }
}

/** A bad value of one field (a query parameter, say): invalid_value naming it. */
export function fieldError(field: string, message: string): ApiError {
  return new ApiError('invalid_value', `${field}: ${message}`, [{ code: 'invalid_value', field, message }]);
}

/** An integer query parameter within [min, max]; `fallback` when absent. */
export function integerQuery(
  field: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw fieldError(field, `must be an integer from ${min} to ${max}`);
  return n;
}

/** Picks the code of a body's problems: the first one's, so "unknown field" wins when it comes first. */
export function problemsError(problems: readonly FieldProblem[], what: string): ApiError {
  const first = problems[0];
  const code = first?.code ?? 'invalid_body';
  return new ApiError(code, `${what}: ${describeProblems(problems)}`, problems);
}
