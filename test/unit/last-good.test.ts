import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectServable } from '../../src/core/manifests/last-good.js';
import { parseManifestFiles } from '../../src/core/manifests/manifests.js';
import type { LoadedManifest } from '../../src/core/manifests/model.js';
import { frontend, staticBackend, yamlFile } from '../helpers/fixtures.js';

const good = (files: Parameters<typeof parseManifestFiles>[0]): LoadedManifest[] =>
  parseManifestFiles(files).manifests.map((m) => ({ manifest: m.manifest, source: m.source }));
const names = (ms: LoadedManifest[]) =>
  ms.map(
    (m) =>
      `${m.manifest.metadata.name}:${JSON.stringify((m.manifest.spec as { members?: { port: number }[] }).members?.map((x) => x.port) ?? [])}`,
  );

describe('last good', () => {
  const v1 = [yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }), staticBackend('b', [1]))];
  const lastGood = good(v1);

  it('serves the current objects when all are valid', () => {
    const s = selectServable(
      parseManifestFiles([yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }), staticBackend('b', [2]))]),
      lastGood,
    );
    assert.deepEqual(names(s.backends), ['b:[2]']);
    assert.deepEqual(s.stale, []);
  });

  it('keeps the last good version of an object that became invalid, and reports the problem', () => {
    const s = selectServable(
      parseManifestFiles([
        yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }), staticBackend('b', [2], { balance: 'nope' })),
      ]),
      lastGood,
    );
    assert.deepEqual(names(s.backends), ['b:[1]']);
    assert.equal(s.frontends.length, 1);
    // The user sees both the broken field and what it breaks.
    assert.deepEqual(s.issues.map((i) => i.path).sort(), ['spec.backend', 'spec.balance']);
    assert.deepEqual(
      s.stale.map((x) => `${x.kind}/${x.name}`),
      ['Backend/b'],
    );
  });

  it('keeps every object of a file that no longer parses', () => {
    const s = selectServable(parseManifestFiles([{ path: 'a.yaml', text: 'kind: [' }]), lastGood);
    assert.equal(s.frontends.length, 1);
    assert.equal(s.backends.length, 1);
    assert.equal(s.issues[0]?.code, 'yaml-syntax');
  });

  it('keeps a deleted backend while a frontend still routes to it', () => {
    const s = selectServable(
      parseManifestFiles([yamlFile('a.yaml', frontend('f', { bind: '*:80', backend: 'b' }))]),
      lastGood,
    );
    assert.deepEqual(names(s.backends), ['b:[1]']);
    assert.match(s.stale[0]?.reason ?? '', /still routes to it/);
    assert.equal(s.issues[0]?.code, 'missing-backend');
  });

  it('removes what was deleted on purpose', () => {
    const s = selectServable(parseManifestFiles([yamlFile('a.yaml', staticBackend('c', [3]))]), lastGood);
    assert.deepEqual(names(s.backends), ['c:[3]']);
    assert.equal(s.frontends.length, 0);
    assert.deepEqual(s.issues, []);
  });

  it('does not invent objects that never were valid', () => {
    const s = selectServable(
      parseManifestFiles([yamlFile('a.yaml', frontend('g', { bind: '*:81', backend: 'missing' }))]),
      [],
    );
    assert.equal(s.frontends.length, 0);
    assert.equal(s.issues[0]?.code, 'missing-backend');
  });
});

describe('duplicate names', () => {
  const fe = frontend('f', { bind: '*:80', backend: 'b' });

  it('serves no copy of a name declared twice, and keeps the last good version', () => {
    const lastGood = good([yamlFile('a.yaml', fe, staticBackend('b', [1]))]);
    const s = selectServable(
      parseManifestFiles([
        yamlFile('a.yaml', fe, staticBackend('b', [1])),
        yamlFile('z.yaml', staticBackend('b', [9])),
      ]),
      lastGood,
    );
    assert.deepEqual(names(s.backends), ['b:[1]'], 'the last good version, not the later file');
    assert.equal(s.frontends.length, 1);
    assert.match(s.stale[0]?.reason ?? '', /also defined in/);
    assert.equal(s.issues.filter((i) => i.code === 'duplicate-name').length, 2);
  });

  it('serves nothing under a duplicated name that was never served, nor what routes to it', () => {
    const s = selectServable(
      parseManifestFiles([
        yamlFile('a.yaml', fe, staticBackend('b', [1])),
        yamlFile('z.yaml', staticBackend('b', [9])),
      ]),
      [],
    );
    assert.deepEqual(names(s.backends), []);
    assert.deepEqual(s.frontends, []);
  });
});
