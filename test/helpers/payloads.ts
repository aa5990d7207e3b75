// Injection payloads and a way to put one into any string field of a
// manifest set: used by the loader's and the API's injection tests.
import type { Json, JsonObject } from './fixtures.js';

export type FieldPath = (string | number)[];

export const LINE_BREAKERS = {
  newline: '\nlisten injected\n  bind 127.0.0.1:6666',
  'carriage return': '\rlisten injected',
  NUL: 'a\u0000b',
};
export const IN_LINE = { hash: 'a # comment', 'double quote': 'a"b', 'single quote': "a'b" };

/** Paths of every string leaf of a JSON value. */
export function stringLeaves(value: Json, path: FieldPath = []): FieldPath[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

/** spec.rules[0].value, as issues name fields. */
export const dotted = (path: FieldPath): string =>
  path
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
    .join('')
    .slice(1)
    .replace(/\.\[/g, '[');

/** A copy of doc with payload appended to the string at path (a well-formed value, so the payload is the only thing wrong). */
export function withPayloadAt(doc: JsonObject, path: FieldPath, payload: string): { doc: JsonObject; value: string } {
  const copy = structuredClone(doc);
  let node: Json = copy;
  for (const seg of path.slice(0, -1)) node = (node as Record<string, Json>)[seg as string] as Json;
  const last = path[path.length - 1] as string;
  const value = `${String((node as Record<string, Json>)[last])}${payload}`;
  (node as Record<string, Json>)[last] = value;
  return { doc: copy, value };
}
