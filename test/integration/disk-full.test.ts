// A full disk, for real: small tmpfs mounts for HAProxy's config and state and
// for the manifests. Writes fail with a clear error naming the file and the
// errno (API 503 storage_failed, a failed apply in the ledger), nothing that
// serves is taken away, no temporary file is left behind, and once there is
// room again the next change applies. Needs root to mount (CI runs as root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiClient, obj } from '../helpers/api.js';
import { apiUp, startAqueductProcess } from '../helpers/aqueduct.js';
import { tempDir } from '../helpers/fixtures.js';
import { scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

async function tmpfs(size: string): Promise<{ dir: string; unmount(): void } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const dir = await tempDir('aqueduct-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  } catch {
    return undefined;
  }
  return { dir, unmount: () => execFileSync('umount', ['-l', dir]) };
}

/** Fills a file system with one file until it refuses more; returns the file. */
async function fill(dir: string): Promise<string> {
  const file = path.join(dir, 'filler');
  await writeFile(file, Buffer.alloc(16 * 1024 * 1024)).catch(() => undefined);
  return file;
}

const temporaries = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tmp'));

describe('a full disk', () => {
  it('refuses writes clearly, keeps serving, leaves no temporary files, and recovers', async (t) => {
    const state = await tmpfs('1m');
    const manifests = await tmpfs('256k');
    if (state === undefined || manifests === undefined) {
      state?.unmount();
      t.skip('needs root and mount(8) for a small tmpfs');
      return;
    }
    const s = await scenario();
    const aq = await startAqueductProcess({ dir: state.dir, args: ['--manifests', manifests.dir] });
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      await s.write(manifests.dir, 'app.yaml', ...s.myapp());
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
        15_000,
      );
      const manifestsFiller = await fill(manifests.dir);
      const put = await api('PUT', '/backends/other', { type: 'static', members: [{ host: '127.0.0.1', port: 1 }] });
      assert.equal(put.status, 503, put.text);
      assert.equal(obj(put)['code'], 'storage_failed');
      assert.match(String(obj(put)['message']), /backends\/other\.yaml in the manifests directory \(ENOSPC\)/);
      assert.deepEqual(await temporaries(manifests.dir), [], 'no temporary file left in the manifests');
      await rm(manifestsFiller);
      // The state disk full: an edit cannot be installed.
      const stateFiller = await fill(state.dir);
      await s.write(manifests.dir, 'app.yaml', ...s.myapp({ natives: ['http-response set-header X-Edit 1'] }));
      const failed = await eventually(
        async () => obj(await api('GET', '/status'))['lastApply'] as Record<string, unknown> | undefined,
        (a) => a?.['result'] === 'failed',
        15_000,
      );
      assert.match(String(failed?.['error']), /haproxy\.cfg \(ENOSPC\)/);
      const served = async () => (await api('GET', '/haproxy/config')).text;
      assert.doesNotMatch(await served(), /X-Edit/, 'HAProxy keeps serving the previous config');
      assert.equal(await serverOf(s.port), 'live-1');
      // Every later event tries the install again (and removes its temporary file when it fails): none may stay.
      assert.deepEqual(
        await eventually(
          () => temporaries(state.dir),
          (left) => left.length === 0,
          5000,
        ),
        [],
        'no temporary file left in the state directory',
      );
      await rm(stateFiller);
      await s.write(manifests.dir, 'app.yaml', ...s.myapp({ natives: ['http-response set-header X-Edit 2'] }));
      await eventually(served, (text) => text.includes('X-Edit 2'), 15_000);
    } finally {
      await aq.stop();
      await s.close();
      state.unmount();
      manifests.unmount();
    }
  });
});
