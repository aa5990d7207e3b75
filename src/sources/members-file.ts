// A JSON file of dynamic backend members (backend name → instances), as used
// by `aqueduct render --members`.
import { readFile } from 'node:fs/promises';
import type { Issue } from '../core/issues.js';
import type { MemberMap } from '../core/manifests/model.js';
import { validateMemberMap } from '../core/manifests/schema-validation.js';

export async function readMembersFile(file: string): Promise<{ members: MemberMap; issues: Issue[] }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return {
      members: {},
      issues: [{ code: 'invalid-members', file, path: '', message: `cannot read members: ${(err as Error).message}` }],
    };
  }
  const result = validateMemberMap(raw);
  if (result.value !== undefined) return { members: result.value, issues: [] };
  return { members: {}, issues: result.issues.map(({ segments: _segments, ...issue }) => ({ ...issue, file })) };
}
