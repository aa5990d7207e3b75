// Expected problems are data: every check returns Issues rather than throwing,
// so one bad object never hides the others.

export type IssueCode =
  | 'yaml-syntax'
  | 'not-an-object'
  | 'unknown-kind'
  | 'schema'
  | 'duplicate-name'
  | 'missing-backend'
  | 'missing-certificate'
  | 'certificate'
  | 'mode-mismatch'
  | 'bind-conflict'
  | 'duplicate-member'
  | 'rule-conflict'
  | 'invalid-option'
  | 'invalid-members'
  | 'template'
  | 'haproxy-refused'
  | 'unreadable'
  | 'unsafe-native'
  | 'own-address';

export interface Issue {
  code: IssueCode;
  /** Human-readable, names the problem and what is allowed. */
  message: string;
  /** JSON path inside the object, e.g. spec.rules[0].operation; '' for the whole object. */
  path: string;
  file?: string;
  /** Document index inside the file, from 1. */
  document?: number;
  line?: number;
  column?: number;
  kind?: string;
  name?: string;
}

/** One line per issue: "file:line (document N) Kind/name path: message". */
export function formatIssue(issue: Issue): string {
  const where: string[] = [];
  if (issue.file !== undefined) {
    let loc = issue.file;
    if (issue.line !== undefined) loc += `:${issue.line}`;
    if (issue.column !== undefined && issue.line !== undefined) loc += `:${issue.column}`;
    where.push(loc);
  }
  if (issue.document !== undefined) where.push(`(document ${issue.document})`);
  if (issue.kind !== undefined && issue.name !== undefined) where.push(`${issue.kind}/${issue.name}`);
  const prefix = where.length > 0 ? `${where.join(' ')} ` : '';
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${prefix}${path}${issue.message}`;
}

/** Unexpected failures carry a stable code; one function maps codes to exit or HTTP status. */
export class AqueductError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
    this.name = 'AqueductError';
  }
}
