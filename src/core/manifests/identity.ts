// Identities: what names one version of an object, equal on every replica
// that reads the same manifest (the API's ETags, the loop's refusals).
import { sha256 } from '../hash.js';
import { compareStrings } from '../rendering/desired-state.js';
import type { Manifest } from './model.js';

/** JSON with keys sorted at every level, so equal objects hash equal whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareStrings(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The object's generation: a content hash, equal on every replica that reads the same manifest. */
export function manifestGeneration(manifest: Manifest): string {
  return sha256(canonicalJson(manifest)).slice(0, 16);
}
