// The API as clients of the original Thalassa Aqueduct use it: the README's
// requests unchanged, the --persistence file imported, and the two things the
// original lacked: tokens and a read-only mode for git-owned directories.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiUp, isApply, startAqueductProcess } from '../helpers/aqueduct.js';
import { apiClient, obj } from '../helpers/api.js';
import { readTree, tempDir, writeTree, type JsonObject } from '../helpers/fixtures.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { serverOf } from '../helpers/wait.js';

/** A --persistence file of the original (0.2.4): a frontend with a rule, a static and a dynamic backend, and a broken one. */
function legacyPersistence(s: Scenario): JsonObject {
  const frontend = {
    ...{ id: 'frontend/myapp', _type: 'frontend', key: 'myapp', bind: `127.0.0.1:${s.port}`, backend: 'live' },
    ...{ mode: 'http', keepalive: 'default', natives: [] },
    rules: [{ type: 'path', operation: 'path_beg', value: '/s/', backend: 'staged' }],
  };
  const live = {
    ...{ id: 'backend/live', _type: 'backend', key: 'live', type: 'static', balance: 'roundrobin', host: null },
    ...{ mode: 'http', natives: [] },
    members: [{ host: '127.0.0.1', port: s.echoes.get('live-1')?.port ?? 0, name: 'x', lastKnown: 1 }],
  };
  const staged = { id: 'backend/staged', _type: 'backend', key: 'staged', type: 'dynamic', name: 'myapp' };
  const broken = { key: 'broken', type: 'static', balance: 'fastest' };
  return {
    version: '0.2.4',
    frontends: [frontend],
    backends: [live, { ...staged, version: '1.1.0', members: [] }, broken],
  };
}

describe('API compatibility with the original', () => {
  it('imports the --persistence file once, serves it, and imports nothing twice', async (t) => {
    const s = await scenario();
    t.after(() => s.close()); // open, its servers would keep this file running after a failure
    const dir = await tempDir('aqueduct-persist-');
    const file = path.join(dir, 'aqueduct.json');
    await writeFile(file, JSON.stringify(legacyPersistence(s)));
    const first = await startAqueductProcess({ dir, args: ['--persistence', file] });
    let imported: Record<string, string>;
    try {
      await first.waitFor(isApply('reload'), 15_000, 0);
      imported = await readTree(first.manifests);
      assert.deepEqual(Object.keys(imported).sort(), [
        'backends/live.yaml',
        'backends/staged.yaml',
        'frontends/myapp.yaml',
      ]);
      assert.ok(first.logs.some((l) => String(l.msg).startsWith('not imported: backend broken: balance')));
      assert.equal(await serverOf(s.port), 'live-1');
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const second = await startAqueductProcess({ dir, args: ['--persistence', file] });
    try {
      await apiUp(second);
      assert.deepEqual(await readTree(second.manifests), imported, 'nothing imported, nothing rewritten');
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it("never overwrites an operator's manifest file, valid or not, on import; If-None-Match: * sees it too", async () => {
    const dir = await tempDir('aqueduct-persist-');
    const file = path.join(dir, 'aqueduct.json');
    await writeFile(
      file,
      JSON.stringify({
        frontends: [],
        backends: [{ key: 'live', type: 'static', members: [{ host: '127.0.0.1', port: 1 }] }],
      }),
    );
    const mine =
      '# my live backend, with comments\napiVersion: aqueduct/v1\nkind: Backend\nmetadata: { name: live }\nspec:\n  type: static\n  balance: fastest # not valid: being fixed\n  members:\n    - { host: 127.0.0.1, port: 7001 }\n    - { host: 127.0.0.1, port: 7002 }\n    - { host: 127.0.0.1, port: 7003 }\n';
    await writeTree({ 'manifests/backends/live.yaml': mine }, dir);
    const aq = await startAqueductProcess({ dir, args: ['--persistence', file] });
    try {
      await apiUp(aq);
      assert.equal(await readFile(path.join(aq.manifests, 'backends/live.yaml'), 'utf8'), mine);
      const api = apiClient(aq.api);
      const create = await api('PUT', '/backends/live', { type: 'static' }, { 'if-none-match': '*' });
      assert.equal(create.status, 412, create.text);
      assert.equal(await readFile(path.join(aq.manifests, 'backends/live.yaml'), 'utf8'), mine);
    } finally {
      assert.equal(await aq.stop(), 0);
    }
  });

  it('requires the tokens when set, in constant time, and leaves probes open', async () => {
    const aq = await startAqueductProcess({
      env: { AQUEDUCT_API_TOKEN: 'w-secret', AQUEDUCT_API_READ_TOKEN: 'r-secret' },
    });
    try {
      await apiUp(aq);
      const anon = apiClient(aq.api);
      const reader = apiClient(aq.api, 'r-secret');
      const writer = apiClient(aq.api, 'w-secret');
      const wrong = apiClient(aq.api, 'w-secreT');
      const body = { type: 'static' };
      for (const [who, call, status] of [
        ['no token', anon, 401],
        ['wrong token', wrong, 401],
        ['read token', reader, 401],
        ['write token', writer, 200],
      ] as const) {
        const r = await call('PUT', '/backends/b', body);
        assert.equal(r.status, status, `${who} writing: ${r.text}`);
        if (status === 401) {
          assert.equal(obj(r)['code'], 'unauthorized');
          assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
        }
      }
      assert.equal((await anon('GET', '/backends')).status, 401);
      assert.equal((await reader('GET', '/backends')).status, 200);
      assert.equal((await writer('GET', '/backends/b')).status, 200);
      assert.equal((await anon('GET', '/healthz')).status, 200);
      const files = await readdir(aq.manifests, { recursive: true });
      assert.deepEqual(
        files.sort(),
        ['backends', 'backends/b.yaml'],
        'only the authorised write reached the directory',
      );
    } finally {
      assert.equal(await aq.stop(), 0);
    }
  });

  it('answers writes with 405 in --readOnly mode and still serves reads', async () => {
    const aq = await startAqueductProcess({ args: ['--readOnly'] });
    try {
      await apiUp(aq);
      const api = apiClient(aq.api);
      for (const [method, p] of [
        ['PUT', '/backends/b'],
        ['POST', '/backends/b'],
        ['DELETE', '/frontends/f'],
      ] as const) {
        const r = await api(method, p, { type: 'static' });
        assert.equal(r.status, 405, r.text);
        assert.equal(obj(r)['code'], 'read_only');
        assert.match(String(obj(r)['message']), /readOnly/);
        assert.equal(r.headers.get('allow'), 'GET, HEAD');
      }
      assert.equal((await api('GET', '/backends')).status, 200);
      assert.deepEqual((await readdir(aq.manifests)).length, 0);
    } finally {
      assert.equal(await aq.stop(), 0);
    }
  });

  it('says at startup, as a warning, that --insecureOpenWrites opens writes to the network', async () => {
    const aq = await startAqueductProcess({ env: { AQUEDUCT_HOST: '0.0.0.0' }, args: ['--insecureOpenWrites'] });
    try {
      const line = await aq.waitFor((l) => String(l.msg).startsWith('INSECURE'), 15_000, 0);
      assert.equal((line as JsonObject)['level'], 40);
      assert.equal((line as JsonObject)['host'], '0.0.0.0');
    } finally {
      assert.equal(await aq.stop(), 0);
    }
  });
});
