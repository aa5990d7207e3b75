import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { isManifestName, loadManifestDir, readManifestDir } from '../../src/sources/manifest-dir.js';
import type { Manifest } from '../../src/core/manifests/model.js';
import { ManifestStore } from '../../src/sources/manifest-store.js';
import { watchManifestDir } from '../../src/sources/manifest-watcher.js';
import { systemClock } from '../../src/clock.js';
import { eventually } from '../helpers/wait.js';
import { frontend, staticBackend, tempDir, writeTree, yamlFile } from '../helpers/fixtures.js';

describe('manifest directory', () => {
  it('reads *.yaml and *.yml recursively, skipping hidden and other files', async () => {
    const dir = await writeTree({
      'a.yaml': stringify(staticBackend('a', [1])),
      'nested/deeper/b.yml': stringify(staticBackend('b', [2])),
      'nested/c.YAML': stringify(staticBackend('c', [3])),
      'README.md': '# not a manifest',
      'notes.txt': 'kind: Backend',
      '.hidden.yaml': 'broken: [',
      '.git/config.yaml': 'broken: [',
      'x.yaml.swp': 'broken',
      'x.yaml~': 'broken',
    });
    const files = await readManifestDir(dir);
    assert.deepEqual(
      files.map((f) => f.path),
      ['a.yaml', 'nested/c.YAML', 'nested/deeper/b.yml'],
    );
    const set = await loadManifestDir(dir);
    assert.deepEqual(set.issues, []);
    assert.equal(set.backends.length, 3);
  });

  it('reads a Kubernetes ConfigMap volume once (..data symlink layout)', async () => {
    const dir = await tempDir();
    const stamp = path.join(dir, '..2026_11_23_10_00_00.123');
    await mkdir(stamp);
    await writeFile(path.join(stamp, 'backends.yaml'), stringify(staticBackend('b', [1])));
    await writeFile(path.join(stamp, 'frontends.yaml'), stringify(frontend('f', { bind: '*:80', backend: 'b' })));
    await symlink(path.basename(stamp), path.join(dir, '..data'));
    await symlink('..data/backends.yaml', path.join(dir, 'backends.yaml'));
    await symlink('..data/frontends.yaml', path.join(dir, 'frontends.yaml'));
    const set = await loadManifestDir(dir);
    assert.deepEqual(set.issues, []);
    assert.equal(set.backends.length, 1);
    assert.equal(set.frontends.length, 1);
  });

  it('follows symlinked directories without looping, and skips dangling links', async () => {
    const dir = await writeTree({ 'real/a.yaml': stringify(staticBackend('a', [1])) });
    await symlink('real', path.join(dir, 'linked'));
    await symlink('..', path.join(dir, 'real', 'loop'));
    await symlink('missing.yaml', path.join(dir, 'dangling.yaml'));
    const files = await readManifestDir(dir);
    // 'linked' and 'real' are one directory: it is read once, under the first name in order.
    assert.deepEqual(
      files.map((f) => f.path),
      ['linked/a.yaml'],
    );
  });

  it('recognises manifest names', () => {
    assert.ok(isManifestName('a.yaml'));
    assert.ok(isManifestName('a.yml'));
    assert.ok(!isManifestName('.a.yaml'));
    assert.ok(!isManifestName('a.yaml.tmp'));
    assert.ok(!isManifestName('a.json'));
  });

  it('shares one read among concurrent API requests, and reads again after a change, a write or a second', async () => {
    const dir = await writeTree({ 'a.yaml': yamlFile('a.yaml', staticBackend('a', [1])).text });
    let clock = 0;
    const store = new ManifestStore(dir, () => clock);
    const [first, second] = await Promise.all([store.read(), store.read()]);
    assert.equal(first, second, 'concurrent reads share one');
    assert.equal(await store.read(), first, 'kept while nothing changed');
    await writeFile(path.join(dir, 'b.yaml'), yamlFile('b.yaml', staticBackend('b', [2])).text);
    assert.equal((await store.read({ fresh: true })).manifests.length, 2, 'fresh reads the disk');
    store.invalidate();
    assert.equal((await store.read()).manifests.length, 2, 'a change seen by the watcher is read');
    const kept = await store.read();
    await store.write('c.yaml', staticBackend('c', [3]) as unknown as Manifest);
    assert.notEqual(await store.read(), kept, 'read your writes');
    const again = await store.read();
    clock += 1500;
    assert.notEqual(await store.read(), again, 'at most a second old');
  });

  it('asks for a read once its first scan is ready, so a change made before the watch began is not missed', async () => {
    // The loop starts the watcher after its first read: a file written in between made no event.
    const dir = await writeTree({ 'a.yaml': yamlFile('a.yaml', staticBackend('a', [1])).text });
    const triggers: string[] = [];
    const watcher = watchManifestDir(dir, {
      onChange: (t) => triggers.push(t),
      onError: () => undefined,
      clock: systemClock,
    });
    try {
      await eventually(
        async () => triggers.slice(),
        (t) => t.includes('watch'),
        5000,
      );
      const seen = triggers.length;
      await writeFile(path.join(dir, 'b.yaml'), yamlFile('b.yaml', staticBackend('b', [2])).text);
      await eventually(
        async () => triggers.length,
        (n) => n > seen,
        5000,
      );
    } finally {
      await watcher.close();
    }
  });
});
