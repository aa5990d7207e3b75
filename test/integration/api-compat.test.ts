// The API as clients of the original Thalassa Aqueduct use it: the README's
// requests unchanged, the --persistence file imported, and the two things the
// original lacked: tokens and a read-only mode for git-owned directories.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiUp, isApply, startAqueductProcess } from '../helpers/aqueduct.js';
import { apiClient, obj } from '../helpers/api.js';
import { tempDir, writeTree, type JsonObject } from '../helpers/fixtures.js';
import { scenario } from '../helpers/scenario.js';
import { serverOf } from '../helpers/wait.js';

describe('API compatibility with the original', () => {
  it("accepts the README's objects and requests verbatim, and writes each as a manifest", async () => {
    const aq = await startAqueductProcess();
    const api = apiClient(aq.api);
    try {
      await aq.waitFor((l) => l.msg === 'REST API listening', 15_000, 0);
      // The README's GET /backends example, PUT back as a client of the original would.
      const live = {
        id: 'backend/live',
        _type: 'backend',
        key: 'live',
        type: 'dynamic',
        name: 'classroom-ui',
        version: '1.0.0',
        balance: 'roundrobin',
        host: null,
        mode: 'http',
        members: [
          {
            name: 'myapp',
            version: '1.0.0',
            host: '10.10.240.121',
            port: 8080,
            lastKnown: 1378762056885,
            meta: { hostname: 'dev-use1b-pr-01-myapp-01x00x00-01', pid: 17941, registered: 1378740834616 },
            id: '/myapp/1.0.0/10.10.240.121/8080',
          },
        ],
        natives: [],
      };
      let r = await api('PUT', '/backends/live', live);
      assert.equal(r.status, 200, r.text);
      r = await api('PUT', '/backends/staged', { type: 'dynamic', name: 'myapp', version: '1.1.0' });
      assert.equal(r.status, 200, r.text);
      // The README's GET /frontends example (binds changed to loopback ports: this machine's 80 is not ours).
      const frontend = {
        id: 'frontend/myapp',
        _type: 'frontend',
        name: 'myapp',
        bind: '127.0.0.1:18480,127.0.0.1:18481',
        backend: 'live',
        mode: 'http',
        keepalive: 'default',
        rules: [{ type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.myapp.com', backend: 'staged' }],
        natives: [],
      };
      r = await api('PUT', '/frontends/myapp', frontend);
      assert.equal(r.status, 200, r.text);
      // The README's POST bodies: {name, version} and {version}.
      r = await api('POST', '/backends/live', { name: 'myapp', version: '1.1.0' });
      assert.equal(r.status, 200, r.text);
      assert.equal(obj(r)['name'], 'myapp');
      r = await api('POST', '/backends/live?wait=applied', { version: '1.2.0' });
      assert.equal(r.status, 200, r.text);
      assert.equal(obj(r)['version'], '1.2.0');

      const files = (await readdir(aq.manifests, { recursive: true })).sort();
      assert.deepEqual(files, [
        'backends',
        'backends/live.yaml',
        'backends/staged.yaml',
        'frontends',
        'frontends/myapp.yaml',
      ]);
      const liveYaml = await readFile(path.join(aq.manifests, 'backends/live.yaml'), 'utf8');
      assert.match(liveYaml, /name: myapp\n/);
      assert.match(liveYaml, /version: 1\.2\.0/);
      assert.doesNotMatch(
        liveYaml,
        /10\.10\.240\.121/,
        "a dynamic backend's members are the registry's, never written",
      );
      const got = obj(await api('GET', '/frontends/myapp'));
      for (const [k, v] of Object.entries(frontend)) assert.deepEqual(got[k], v, k);
      assert.ok((await api('GET', '/haproxy/config')).text.includes('backend live'));
      const del = await api('DELETE', '/frontends/myapp');
      assert.equal(del.status, 200);
      assert.equal((await api('DELETE', '/frontends/myapp')).status, 404);
    } finally {
      assert.equal(await aq.stop(), 0);
    }
  });

  it('imports the --persistence file once, serves it, and imports nothing twice', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-persist-');
    const file = path.join(dir, 'aqueduct.json');
    await writeFile(
      file,
      JSON.stringify({
        version: '0.2.4',
        frontends: [
          {
            id: 'frontend/myapp',
            _type: 'frontend',
            key: 'myapp',
            bind: `127.0.0.1:${s.port}`,
            backend: 'live',
            mode: 'http',
            keepalive: 'default',
            rules: [{ type: 'path', operation: 'path_beg', value: '/s/', backend: 'staged' }],
            natives: [],
          },
        ],
        backends: [
          {
            id: 'backend/live',
            _type: 'backend',
            key: 'live',
            type: 'static',
            balance: 'roundrobin',
            host: null,
            mode: 'http',
            members: [{ host: '127.0.0.1', port: s.echoes.get('live-1')?.port, name: 'x', lastKnown: 1 }],
            natives: [],
          },
          {
            id: 'backend/staged',
            _type: 'backend',
            key: 'staged',
            type: 'dynamic',
            name: 'myapp',
            version: '1.1.0',
            members: [],
          },
          { key: 'broken', type: 'static', balance: 'fastest' },
        ],
      }),
    );
    const first = await startAqueductProcess({ dir, args: ['--persistence', file] });
    try {
      await first.waitFor(isApply('reload'), 15_000, 0);
      const imported = first.logs.filter((l) => l.msg === 'persistence import: imported').map((l) => l['object']);
      assert.deepEqual(imported.sort(), ['backend/live', 'backend/staged', 'frontend/myapp']);
      assert.ok(first.logs.some((l) => l.msg.startsWith('not imported: backend broken: balance')));
      assert.equal(await serverOf(s.port), 'live-1');
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const before = await readFile(path.join(first.manifests, 'backends/live.yaml'), 'utf8');
    const second = await startAqueductProcess({ dir, args: ['--persistence', file] });
    try {
      await second.waitFor((l) => l.msg === 'aqueduct running', 15_000, 0);
      assert.equal(second.logs.filter((l) => l.msg === 'persistence import: imported').length, 0);
      assert.equal(second.logs.filter((l) => String(l.msg).includes('already in the manifests directory')).length, 3);
      assert.equal(await readFile(path.join(second.manifests, 'backends/live.yaml'), 'utf8'), before);
    } finally {
      assert.equal(await second.stop(), 0);
      await s.close();
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
      await aq.waitFor((l) => l.msg === 'REST API listening', 15_000, 0);
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
      await aq.waitFor((l) => l.msg === 'REST API listening', 15_000, 0);
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
