// The REST API's HTTP behaviour in process (test/helpers/api-app.ts): every
// error code, the original shapes, read-your-writes, ETags under concurrent
// writers and injection through every field. Each test has its own app and
// manifests directory. What needs a running HAProxy is in
// test/integration/api.test.ts.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { obj } from '../helpers/api.js';
import { withApiApp, type ApiApp } from '../helpers/api-app.js';
import { backend, everyFieldSet, frontend, staticBackend, type Json, type JsonObject } from '../helpers/fixtures.js';
import { IN_LINE, LINE_BREAKERS, stringLeaves, withPayloadAt } from '../helpers/payloads.js';
import { eventually } from '../helpers/wait.js';

const BIND = '127.0.0.1:18080';
/** A frontend with a rule, and the backends it routes to. */
const SEED = [
  staticBackend('live', [9001, 9002]),
  staticBackend('api', [9003]),
  staticBackend('legacy', [9004]),
  frontend('myapp', {
    bind: BIND,
    backend: 'live',
    rules: [{ type: 'path', operation: 'path_beg', value: '/api/', backend: 'api' }],
  }),
];
const fe = { bind: '127.0.0.1:1', backend: 'live' };

interface BadInput {
  what: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
  says?: RegExp;
}

const BAD_INPUTS: BadInput[] = [
  { what: 'invalid JSON', method: 'PUT', path: '/frontends/x', body: '{"bind": ', status: 400, code: 'invalid_json' },
  { what: 'not an object', method: 'PUT', path: '/frontends/x', body: [1, 2], status: 400, code: 'invalid_body' },
  { what: 'no body', method: 'PUT', path: '/backends/x', status: 400, code: 'invalid_body' },
  {
    what: 'unknown field',
    ...{ method: 'PUT', path: '/frontends/x', body: { ...fe, bakend: 'live' } },
    ...{ status: 400, code: 'unknown_field', field: 'bakend', says: /did you mean 'backend'/ },
  },
  {
    what: 'bad enum',
    ...{ method: 'PUT', path: '/frontends/x', body: { ...fe, mode: 'udp' } },
    ...{ status: 400, code: 'invalid_value', field: 'mode', says: /http, tcp/ },
  },
  {
    what: 'bad rule operation',
    ...{ method: 'PUT', path: '/frontends/x' },
    body: { ...fe, rules: [{ type: 'path', operation: 'hdr_dom', value: '/', backend: 'live' }] },
    ...{ status: 400, code: 'invalid_value', field: 'rules[0].operation' },
  },
  {
    what: 'missing field',
    ...{ method: 'PUT', path: '/frontends/x', body: { backend: 'live' } },
    ...{ status: 400, code: 'missing_field', field: 'bind' },
  },
  {
    what: 'bad port',
    ...{ method: 'PUT', path: '/backends/x', body: { type: 'static', members: [{ host: '127.0.0.1', port: 70000 }] } },
    ...{ status: 400, code: 'invalid_value', field: 'members[0].port' },
  },
  {
    what: 'dynamic without version',
    ...{ method: 'PUT', path: '/backends/x', body: { type: 'dynamic', name: 'svc' } },
    ...{ status: 400, code: 'missing_field', field: 'version' },
  },
  {
    what: 'bad name in URL',
    ...{ method: 'PUT', path: '/backends/-bad', body: { type: 'static' } },
    ...{ status: 400, code: 'invalid_value', field: 'name' },
  },
  {
    what: 'id of another object',
    ...{ method: 'PUT', path: '/frontends/x', body: { ...fe, id: 'frontend/y' } },
    ...{ status: 400, code: 'invalid_value', field: 'id' },
  },
  {
    what: 'missing default backend',
    ...{ method: 'PUT', path: '/frontends/x', body: { ...fe, backend: 'nope' } },
    ...{ status: 400, code: 'unknown_backend', field: 'backend', says: /'nope'/ },
  },
  {
    what: 'missing rule backend',
    ...{ method: 'PUT', path: '/frontends/x' },
    body: { ...fe, rules: [{ type: 'path', operation: 'path_beg', value: '/a', backend: 'nope' }] },
    ...{ status: 400, code: 'unknown_backend', field: 'rules[0].backend' },
  },
  {
    what: 'bind taken by another frontend',
    ...{ method: 'PUT', path: '/frontends/x', body: { ...fe, bind: BIND } },
    ...{ status: 400, code: 'invalid_object', field: 'bind', says: /myapp/ },
  },
  {
    what: 'natives HAProxy refuses (the real haproxy -c)',
    ...{ method: 'PUT', path: '/backends/x', body: { type: 'static', natives: ['no-such-keyword 1'] } },
    ...{ status: 400, code: 'haproxy_rejected', says: /no-such-keyword/ },
  },
  {
    what: 'delete of a used backend',
    ...{ method: 'DELETE', path: '/backends/api' },
    ...{ status: 409, code: 'in_use', says: /frontend\/myapp/ },
  },
  {
    what: 'POST to a static backend',
    ...{ method: 'POST', path: '/backends/live', body: { version: '1.0.0' } },
    ...{ status: 409, code: 'not_dynamic' },
  },
  {
    what: 'POST with an unknown field',
    ...{ method: 'POST', path: '/backends/live', body: { versoin: '1' } },
    ...{ status: 400, code: 'unknown_field', field: 'versoin' },
  },
  { what: 'unknown frontend', method: 'GET', path: '/frontends/nope', status: 404, code: 'not_found' },
  { what: 'delete of an unknown backend', method: 'DELETE', path: '/backends/nope', status: 404, code: 'not_found' },
  {
    what: 'POST to an unknown backend',
    ...{ method: 'POST', path: '/backends/nope', body: { version: '1' } },
    ...{ status: 404, code: 'not_found' },
  },
  {
    what: 'members of an unknown backend',
    ...{ method: 'GET', path: '/backends/nope/members' },
    ...{ status: 404, code: 'not_found' },
  },
  { what: 'unknown route', method: 'GET', path: '/nothing', status: 404, code: 'not_found' },
  {
    what: 'stale If-Match',
    ...{ method: 'PUT', path: '/backends/live', body: { type: 'static' }, headers: { 'if-match': '"0000"' } },
    ...{ status: 412, code: 'precondition_failed' },
  },
  {
    what: 'bad wait option',
    ...{ method: 'PUT', path: '/backends/x?wait=soon', body: { type: 'static' } },
    ...{ status: 400, code: 'invalid_value', field: 'wait' },
  },
];

describe('REST API: bad input is answered with 4xx naming the field, and changes no file and no served config', () => {
  for (const c of BAD_INPUTS)
    it(c.what, async () => {
      await withApiApp(SEED, async (a) => {
        const files = await a.files();
        const served = a.loop.store.file;
        const r = await a.call(c.method, c.path, c.body, c.headers);
        assert.equal(r.status, c.status, r.text.slice(0, 300));
        const body = obj(r);
        assert.deepEqual([body['code'], body['statusCode'], typeof body['message']], [c.code, c.status, 'string']);
        if (c.field !== undefined) {
          const fields = ((body['errors'] as JsonObject[] | undefined) ?? []).map((e) => e['field']);
          assert.ok(fields.includes(c.field), JSON.stringify(body));
          assert.ok(String(body['message']).includes(c.field), 'the message names the field');
        }
        if (c.says !== undefined) assert.match(String(body['message']), c.says);
        assert.deepEqual(await a.files(), files, 'no file changed');
        assert.equal(a.loop.store.file, served, 'the served config did not change');
      });
    });
});

describe('REST API: objects', () => {
  it('GET shows what was written, with defaults, status and an ETag, in the original shapes', async () => {
    await withApiApp(SEED, async (a) => {
      const fe = (obj(await a.call('GET', '/frontends')) as unknown as JsonObject[]).find((f) => f['key'] === 'myapp');
      assert.deepEqual(
        [fe?.['id'], fe?.['_type'], fe?.['name'], fe?.['mode'], fe?.['keepalive'], fe?.['natives']],
        ['frontend/myapp', 'frontend', 'myapp', 'http', 'default', []],
      );
      const one = await a.call('GET', '/backends/live');
      const be = obj(one);
      const members = [9001, 9002].map((port) => ({ host: '127.0.0.1', port }));
      assert.deepEqual([be['key'], be['balance'], be['host'], be['members']], ['live', 'roundrobin', null, members]);
      const status = be['status'] as JsonObject;
      assert.equal(one.headers.get('etag'), `"${String(status['generation'])}"`);
      assert.equal(status['file'], 'backends/live.yaml');
      assert.equal(status['state'], 'applied');
      assert.deepEqual((await a.call('GET', '/backends/live/members')).body, members);
    });
  });

  it('accepts a GET result PUT back unchanged, and writes nothing for it', async () => {
    await withApiApp(SEED, async (a) => {
      for (const p of ['/frontends/myapp', '/backends/live']) {
        const before = await a.files();
        const got = await a.call('GET', p);
        const put = await a.call('PUT', p, got.body);
        assert.equal(put.status, 200, put.text);
        assert.equal(put.headers.get('etag'), got.headers.get('etag'));
        assert.deepEqual(await a.files(), before);
      }
    });
  });

  it('writes a manifest and, with wait=applied, answers once the loop serves it', async () => {
    await withApiApp(SEED, async (a) => {
      const r = await a.call('PUT', '/backends/fresh?wait=applied', { type: 'static', members: [] });
      assert.equal(r.status, 200, r.text);
      assert.equal((obj(r)['apply'] as JsonObject)['result'], 'ok');
      assert.match(await readFile(path.join(a.dir, 'backends/fresh.yaml'), 'utf8'), /kind: Backend/);
      assert.match(a.loop.store.file ?? '', /^backend fresh$/m);
      const gone = await a.call('DELETE', '/backends/fresh?wait=applied');
      assert.deepEqual({ ...obj(gone), apply: undefined }, { id: 'backend/fresh', deleted: true, apply: undefined });
      assert.doesNotMatch(a.loop.store.file ?? '', /^backend fresh$/m);
      assert.equal((await a.call('GET', '/backends/fresh')).status, 404);
    });
  });

  it('GET /haproxy/config returns the served config as text', async () => {
    await withApiApp(SEED, async (a) => {
      const r = await a.call('GET', '/haproxy/config');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(r.text, a.loop.store.file);
    });
  });

  it('shows a broken manifest as invalid while its last good version is served', async () => {
    await withApiApp(SEED, async (a) => {
      const broken = backend('legacy', { type: 'static', balance: 'fastest' });
      await writeFile(path.join(a.dir, 'backends/legacy.yaml'), stringify(broken));
      await a.loop.run('watch');
      const r = await eventually(
        () => a.call('GET', '/backends/legacy'),
        (x) => (obj(x)['status'] as JsonObject | undefined)?.['state'] === 'invalid',
      );
      const status = obj(r)['status'] as JsonObject;
      assert.equal(status['serving'], 'previous');
      assert.match(String(status['lastError']), /balance/);
      const overview = obj(await a.call('GET', '/status'));
      assert.ok((overview['issues'] as string[]).some((i) => i.includes('legacy') && i.includes('balance')));
      assert.equal(overview['ready'], true);
      assert.match(a.loop.store.file ?? '', /^backend legacy$/m, 'still served');
    });
  });

  it('refuses a write to a file that holds other objects too', async () => {
    await withApiApp(SEED, async (a) => {
      const docs = [staticBackend('one', []), staticBackend('two', [])];
      await writeFile(path.join(a.dir, 'shared.yaml'), docs.map((d) => stringify(d)).join('---\n'));
      await eventually(
        () => a.call('GET', '/backends/one'),
        (r) => r.status === 200,
      );
      const r = await a.call('PUT', '/backends/one', { type: 'static', balance: 'source' });
      assert.deepEqual([r.status, obj(r)['code']], [409, 'shared_file']);
      assert.match(String(obj(r)['message']), /shared\.yaml/);
      assert.equal((await a.call('DELETE', '/backends/two')).status, 409);
    });
  });
});

describe('REST API: names that differ only in case', () => {
  it('refuses a new object whose name (or file) differs from an existing one only in case', async () => {
    await withApiApp(SEED, async (a) => {
      const r = await a.call('PUT', '/backends/Live', { type: 'static', balance: 'source' });
      assert.deepEqual([r.status, obj(r)['code']], [409, 'name_conflict']);
      assert.match(String(obj(r)['message']), /backend\/live/);
      assert.equal((await a.call('GET', '/backends/Live')).status, 404, 'nothing was written');
      assert.equal((await a.call('PUT', '/backends/live', { type: 'static', balance: 'source' })).status, 200);
    });
  });
});

describe('REST API: concurrency and preconditions', () => {
  it('honours If-Match and If-None-Match', async () => {
    await withApiApp(SEED, async (a) => {
      const got = await a.call('GET', '/backends/live');
      const etag = got.headers.get('etag') as string;
      const changed = await a.call(
        'PUT',
        '/backends/live',
        { ...obj(got), balance: 'leastconn' },
        { 'if-match': etag },
      );
      assert.equal(changed.status, 200, changed.text);
      assert.notEqual(changed.headers.get('etag'), etag);
      const stale = await a.call('PUT', '/backends/live', { ...obj(got), balance: 'source' }, { 'if-match': etag });
      assert.equal(stale.status, 412);
      assert.equal(obj(stale)['etag'], (changed.headers.get('etag') as string).replace(/"/g, ''));
      assert.equal((await a.call('PUT', '/backends/live', obj(got), { 'if-none-match': '*' })).status, 412);
      assert.equal((await a.call('DELETE', '/backends/legacy', undefined, { 'if-match': '"nope"' })).status, 412);
    });
  });

  it('loses no update and reports no false success with 50 concurrent writers', async () => {
    await withApiApp([staticBackend('pool', [])], async (a) => {
      const writers = 50;
      const etags = new Set<string>();
      let conflicts = 0;
      const addMember = async (i: number, attempt = 0): Promise<void> => {
        const got = await a.call('GET', '/backends/pool');
        const list = [...(obj(got)['members'] as JsonObject[]), { host: '127.0.0.1', port: 30000 + i }];
        const headers = { 'if-match': got.headers.get('etag') as string };
        const put = await a.call('PUT', '/backends/pool', { ...obj(got), members: list }, headers);
        if (put.status !== 412) {
          assert.equal(put.status, 200, put.text);
          etags.add(put.headers.get('etag') as string);
          return;
        }
        conflicts++; // as a real client would: back off a random while before reading again
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        return addMember(i, attempt + 1);
      };
      await Promise.all(Array.from({ length: writers }, (_, i) => addMember(i)));
      assert.equal(etags.size, writers, 'every success produced a new version');
      const ports = (obj(await a.call('GET', '/backends/pool'))['members'] as JsonObject[]).map((m) => m['port']);
      assert.deepEqual(ports.sort(), Array.from({ length: writers }, (_, i) => 30000 + i).sort(), 'none is lost');
      assert.ok(conflicts > 0, 'the writers did contend');
    });
  });
});

describe('REST API: injection', () => {
  it('keeps injection payloads in every field out of the manifests and the config', async () => {
    const bodies = everyFieldSet().map((d) => ({
      route: `/${String(d['kind']).toLowerCase()}s/${String((d['metadata'] as JsonObject)['name'])}`,
      spec: d['spec'] as JsonObject,
    }));
    await withApiApp(everyFieldSet(), async (a) => {
      let refused = 0;
      for (const b of bodies)
        for (const field of stringLeaves(b.spec as Json))
          for (const [label, payload] of Object.entries({ ...LINE_BREAKERS, ...IN_LINE })) {
            const r = await a.call('PUT', b.route, withPayloadAt(b.spec, field, payload).doc);
            if (r.status === 400) refused++;
            else assert.ok(r.status === 200 && label in IN_LINE, `${b.route} ${field.join('.')} took a ${label}`);
          }
      assert.ok(refused > 0);
      await a.loop.run('watch');
      assert.ok(!Object.values(await a.files()).some((text) => /^listen injected/m.test(text)));
      assert.doesNotMatch(a.loop.store.file ?? '', /^listen injected/m);
    });
  });
});

describe('REST API: documents and probes', () => {
  it('serves an OpenAPI document built from the schemas, Swagger UI without a CDN, and health probes', async () => {
    await withApiApp(SEED, async (a) => {
      const doc = obj(await a.call('GET', '/openapi.json'));
      assert.equal(doc['openapi'], '3.1.0');
      const schemas = (doc['components'] as JsonObject)['schemas'] as JsonObject;
      assert.ok('frontend.spec' in schemas && 'backend.spec' in schemas);
      assert.ok('/backends/{name}' in (doc['paths'] as JsonObject));
      assert.match((await a.call('GET', '/docs/')).text, /swagger-ui/i);
      assert.ok((await a.call('GET', '/docs/static/swagger-ui.css')).text.length > 10_000);
      assert.equal((await a.call('GET', '/healthz')).status, 200);
      assert.deepEqual((await a.call('GET', '/readyz')).body, { ok: true, ready: true });
    });
  });
});

/** The README's GET /backends example, PUT back as a client of the original would. */
const README_LIVE = {
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
/** The README's GET /frontends example (binds on loopback ports: this machine's 80 is not ours). */
const README_FRONTEND = {
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

describe("REST API: the original README's requests, verbatim", () => {
  /** PUTs the README's backends and frontend as its examples show them. */
  async function putReadmeObjects(a: ApiApp): Promise<void> {
    for (const [route, body] of [
      ['/backends/live', README_LIVE],
      ['/backends/staged', { type: 'dynamic', name: 'myapp', version: '1.1.0' }],
      ['/frontends/myapp', README_FRONTEND],
    ] as const) {
      const r = await a.call('PUT', route, body);
      assert.equal(r.status, 200, r.text);
    }
  }

  it('writes each object PUT as one manifest, never the members of a dynamic backend', async () => {
    await withApiApp([], putReadmeObjects, async (a) => {
      assert.deepEqual(Object.keys(await a.files()).sort(), [
        'backends/live.yaml',
        'backends/staged.yaml',
        'frontends/myapp.yaml',
      ]);
      const liveYaml = await readFile(path.join(a.dir, 'backends/live.yaml'), 'utf8');
      assert.doesNotMatch(liveYaml, /10\.10\.240\.121/, "a dynamic backend's members are the registry's");
      const got = obj(await a.call('GET', '/frontends/myapp'));
      for (const [k, v] of Object.entries(README_FRONTEND)) assert.deepEqual(got[k], v, k);
    });
  });

  it('switches versions with the POST bodies {name, version} and {version}', async () => {
    await withApiApp([], putReadmeObjects, async (a) => {
      const named = await a.call('POST', '/backends/live', { name: 'myapp', version: '1.1.0' });
      assert.deepEqual([named.status, obj(named)['name']], [200, 'myapp']);
      const versioned = await a.call('POST', '/backends/live?wait=applied', { version: '1.2.0' });
      assert.deepEqual([versioned.status, obj(versioned)['version']], [200, '1.2.0']);
      const liveYaml = await readFile(path.join(a.dir, 'backends/live.yaml'), 'utf8');
      assert.match(liveYaml, /name: myapp\n/);
      assert.match(liveYaml, /version: 1\.2\.0/);
      assert.match((await a.call('GET', '/haproxy/config')).text, /^backend live$/m);
    });
  });

  it('deletes a frontend once; a second DELETE is 404', async () => {
    await withApiApp([], putReadmeObjects, async (a) => {
      assert.equal((await a.call('DELETE', '/frontends/myapp')).status, 200);
      assert.equal((await a.call('DELETE', '/frontends/myapp')).status, 404);
    });
  });
});
