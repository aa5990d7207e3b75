import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseCache, type StoredParse } from '../../src/core/manifests/parse-cache.js';
import type { LocatedManifest, ManifestFile } from '../../src/core/manifests/manifests.js';
import { frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';

const files: ManifestFile[] = [
  yamlFile('web.yaml', frontend('web', { bind: '*:8080', backend: 'live' }), staticBackend('live', [9001, 9002])),
  { path: 'broken.yaml', text: 'kind: Backend\nmetadata: {name: x}\nspec: [\n' },
  yamlFile('api.yaml', staticBackend('api', [9100], { natives: ['timeout server 5s'] })),
];

/** What a restart reads back: the store as JSON, written and parsed again. */
const throughDisk = (stored: StoredParse[]): StoredParse[] => JSON.parse(JSON.stringify(stored)) as StoredParse[];
const plain = (ms: readonly LocatedManifest[]) => ms.map((m) => ({ manifest: m.manifest, source: m.source }));

function restarted(stored: StoredParse[]): ParseCache {
  const cache = new ParseCache();
  cache.seed(stored);
  return cache;
}

describe('the parse cache kept across restarts', () => {
  it('gives a restart the same objects, issues and line numbers without parsing an unchanged file', () => {
    const first = new ParseCache();
    const before = first.parse(files);
    assert.equal(first.changed, true);
    const again = restarted(throughDisk(first.stored()));
    const after = again.parse(files);
    assert.equal(again.changed, false, 'every file came from the store');
    assert.deepEqual(plain(after.manifests), plain(before.manifests));
    assert.deepEqual(after.issues, before.issues);
    const live = (r: typeof before) => r.manifests.find((m) => m.manifest.metadata.name === 'live');
    assert.equal(live(after)?.lineOf(['spec', 'members', 1]), live(before)?.lineOf(['spec', 'members', 1]));
    assert.ok((live(after)?.lineOf(['spec', 'members', 1]) ?? 0) > 1);
  });

  it('parses a file whose text changed since it was stored', () => {
    const first = new ParseCache();
    first.parse(files);
    const edited = [files[0] as ManifestFile, yamlFile('api.yaml', staticBackend('api', [9200]))];
    const again = restarted(throughDisk(first.stored()));
    const after = again.parse(edited);
    assert.equal(again.changed, true);
    const api = after.manifests.find((m) => m.manifest.metadata.name === 'api')?.manifest;
    assert.deepEqual(api?.kind === 'Backend' && api.spec.type === 'static' ? api.spec.members : undefined, [
      { host: '127.0.0.1', port: 9200 },
    ]);
  });

  it('parses again when a stored object no longer passes the schemas or the store has another shape', () => {
    const first = new ParseCache();
    const before = first.parse(files);
    const stored = throughDisk(first.stored());
    const web = stored.find((s) => s.path === 'web.yaml') as StoredParse;
    (web.manifests[1]?.manifest.spec as unknown as Record<string, unknown>)['balance'] = 'no-such-algorithm';
    const api = stored.find((s) => s.path === 'api.yaml') as unknown as Record<string, unknown>;
    api['manifests'] = 'not a list';
    const again = restarted(stored);
    const after = again.parse(files);
    assert.equal(again.changed, true);
    assert.deepEqual(plain(after.manifests), plain(before.manifests));
  });

  it('uses the store only for the first read: a later read parses what changed', () => {
    const first = new ParseCache();
    first.parse(files);
    const stored = throughDisk(first.stored());
    const again = restarted(stored);
    again.parse([]);
    again.parse(files);
    assert.equal(again.changed, true, 'the files came back after the store was spent');
  });
});
