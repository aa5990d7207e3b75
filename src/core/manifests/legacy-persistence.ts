// The original Thalassa Aqueduct's --persistence file ({version, frontends,
// backends}, each object as its API showed it) turned into manifests, for a
// one-time import. Pure: the caller reads the file and writes the manifests.
import { backendFromBody, describeProblems, frontendFromBody } from './api-objects.js';
import type { Manifest } from './model.js';

export interface LegacyImport {
  manifests: Manifest[];
  /** One line per object that could not be imported, naming it. */
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object's own name: `key` in the original (a backend's `name` is its registry service). */
function legacyName(o: Record<string, unknown>, kind: 'frontend' | 'backend'): string | undefined {
  if (typeof o['key'] === 'string') return o['key'];
  if (typeof o['id'] === 'string' && o['id'].startsWith(`${kind}/`)) return o['id'].slice(kind.length + 1);
  if (kind === 'frontend' && typeof o['name'] === 'string') return o['name'];
  return undefined;
}

export function importLegacyPersistence(data: unknown): LegacyImport {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  if (!isObject(data))
    return { manifests, problems: ['the file must hold a JSON object {version, frontends, backends}'] };
  for (const kind of ['frontend', 'backend'] as const) {
    const list = data[`${kind}s`] ?? [];
    if (!Array.isArray(list)) {
      problems.push(`${kind}s: must be an array`);
      continue;
    }
    list.forEach((item: unknown, i) => {
      const where = `${kind}s[${i}]`;
      if (!isObject(item)) return problems.push(`${where}: must be an object`);
      const name = legacyName(item, kind);
      if (name === undefined) return problems.push(`${where}: has no key (the object's name)`);
      // The original kept fields the manifest format does not have; drop what carries no intent.
      const dropped = new Set(['id', '_type', 'key', 'status', ...(kind === 'frontend' ? ['name'] : [])]);
      const body = Object.fromEntries(Object.entries(item).filter(([k]) => !dropped.has(k)));
      if (kind === 'backend' && Array.isArray(body['members'])) {
        body['members'] =
          body['type'] === 'dynamic'
            ? []
            : (body['members'] as unknown[]).map((m) =>
                isObject(m)
                  ? { host: m['host'], port: m['port'], ...(m['weight'] !== undefined && { weight: m['weight'] }) }
                  : m,
              );
      }
      if (body['host'] === undefined) delete body['host'];
      const result = kind === 'frontend' ? frontendFromBody(name, body) : backendFromBody(name, body);
      if (result.manifest === undefined) return problems.push(`${kind} ${name}: ${describeProblems(result.problems)}`);
      manifests.push(result.manifest);
    });
  }
  return { manifests, problems };
}
