// The REST API against the real loop and a real HAProxy: every route and
// error code, read-your-writes, GET → PUT round trips, ETags under 100
// concurrent writers, injection through every field, and routing end to end.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { everyFieldSet, type Json, type JsonObject } from '../helpers/fixtures.js';
import { IN_LINE, LINE_BREAKERS, stringLeaves, withPayloadAt } from '../helpers/payloads.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

/** Every file of the manifests directory with its text: "nothing was written" is this staying equal. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out[path.relative(dir, full)] = await readFile(full, 'utf8');
    }
  }
  await walk(dir);
  return out;
}

const members = (s: Scenario, ...names: string[]) =>
  names.map((n) => ({ host: '127.0.0.1', port: s.echoes.get(n)?.port as number }));

describe('REST API', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;

  before(async () => {
    s = await scenario();
    aq = await startAqueductProcess({ args: ['--minReloadInterval', '100', '--resyncInterval', '1000'] });
    api = apiClient(aq.api);
    await aq.waitFor((l) => l.msg === 'REST API listening', 15_000, 0);
  });

  after(async () => {
    assert.equal(await aq.stop(), 0);
    await s.close();
  });

  it('creates backends and a frontend with path, url and Host rules, and HAProxy routes by them', async () => {
    for (const [name, echo] of [
      ['live', ['live-1', 'live-2']],
      ['staged', ['staged-1']],
      ['api', ['extra-1']],
      ['legacy', ['extra-2']],
    ] as const) {
      const r = await api('PUT', `/backends/${name}`, { type: 'static', members: members(s, ...echo) });
      assert.equal(r.status, 200, r.text);
      assert.equal(obj(r)['id'], `backend/${name}`);
    }
    const r = await api('PUT', '/frontends/myapp?wait=applied', {
      bind: `127.0.0.1:${s.port}`,
      backend: 'live',
      rules: [
        { type: 'path', operation: 'path_beg', value: '/api/', backend: 'api' },
        { type: 'url', operation: 'url_beg', value: '/old?', backend: 'legacy' },
        { type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.myapp.com', backend: 'staged' },
      ],
    });
    assert.equal(r.status, 200, r.text);
    const body = obj(r);
    assert.equal((body['apply'] as JsonObject)['result'], 'ok');
    assert.equal((body['status'] as JsonObject)['state'], 'applied');
    assert.match(await readFile(path.join(aq.manifests, 'frontends/myapp.yaml'), 'utf8'), /kind: Frontend/);

    assert.equal(await serverOf(s.port, 'www.myapp.com', '/api/users'), 'extra-1');
    assert.equal(await serverOf(s.port, 'www.myapp.com', '/old?id=3'), 'extra-2');
    assert.equal(await serverOf(s.port, 'staged.myapp.com', '/'), 'staged-1');
    assert.match(await serverOf(s.port, 'www.myapp.com', '/'), /^live-/);
  });

  it('GET shows what was written, with defaults, status and an ETag, in the original shapes', async () => {
    const list = await api('GET', '/frontends');
    assert.equal(list.status, 200);
    const fe = (list.body as JsonObject[]).find((f) => f['key'] === 'myapp') as JsonObject;
    assert.equal(fe['id'], 'frontend/myapp');
    assert.equal(fe['_type'], 'frontend');
    assert.equal(fe['name'], 'myapp');
    assert.equal(fe['mode'], 'http');
    assert.equal(fe['keepalive'], 'default');
    assert.deepEqual(fe['natives'], []);
    const one = await api('GET', '/backends/live');
    assert.equal(one.status, 200);
    const be = obj(one);
    assert.equal(be['key'], 'live');
    assert.equal(be['balance'], 'roundrobin');
    assert.equal(be['host'], null);
    assert.deepEqual(be['members'], members(s, 'live-1', 'live-2'));
    const status = be['status'] as JsonObject;
    assert.equal(one.headers.get('etag'), `"${String(status['generation'])}"`);
    assert.equal(status['file'], 'backends/live.yaml');
    const m = await api('GET', '/backends/live/members');
    assert.deepEqual(m.body, members(s, 'live-1', 'live-2'));
  });

  it('accepts a GET result PUT back unchanged, and writes nothing for it', async () => {
    for (const p of ['/frontends/myapp', '/backends/live']) {
      const before = await snapshot(aq.manifests);
      const got = await api('GET', p);
      const put = await api('PUT', p, got.body);
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers.get('etag'), got.headers.get('etag'));
      assert.deepEqual(await snapshot(aq.manifests), before);
    }
  });

  it('answers bad input with 4xx naming the field, and changes no file and no served config', async () => {
    const files = await snapshot(aq.manifests);
    const served = await readFile(aq.cfgPath, 'utf8');
    const fe = { bind: '127.0.0.1:1', backend: 'live' };
    const cases: {
      what: string;
      method: string;
      path: string;
      body?: unknown;
      status: number;
      code: string;
      field?: string;
      says?: RegExp;
    }[] = [
      {
        what: 'invalid JSON',
        method: 'PUT',
        path: '/frontends/x',
        body: '{"bind": ',
        status: 400,
        code: 'invalid_json',
      },
      { what: 'not an object', method: 'PUT', path: '/frontends/x', body: [1, 2], status: 400, code: 'invalid_body' },
      { what: 'no body', method: 'PUT', path: '/backends/x', status: 400, code: 'invalid_body' },
      {
        what: 'unknown field',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, bakend: 'live' },
        status: 400,
        code: 'unknown_field',
        field: 'bakend',
        says: /did you mean 'backend'/,
      },
      {
        what: 'bad enum',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, mode: 'udp' },
        status: 400,
        code: 'invalid_value',
        field: 'mode',
        says: /http, tcp/,
      },
      {
        what: 'bad rule operation',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, rules: [{ type: 'path', operation: 'hdr_dom', value: '/', backend: 'live' }] },
        status: 400,
        code: 'invalid_value',
        field: 'rules[0].operation',
      },
      {
        what: 'missing field',
        method: 'PUT',
        path: '/frontends/x',
        body: { backend: 'live' },
        status: 400,
        code: 'missing_field',
        field: 'bind',
      },
      {
        what: 'bad port',
        method: 'PUT',
        path: '/backends/x',
        body: { type: 'static', members: [{ host: '127.0.0.1', port: 70000 }] },
        status: 400,
        code: 'invalid_value',
        field: 'members[0].port',
      },
      {
        what: 'dynamic without version',
        method: 'PUT',
        path: '/backends/x',
        body: { type: 'dynamic', name: 'svc' },
        status: 400,
        code: 'missing_field',
        field: 'version',
      },
      {
        what: 'bad name in URL',
        method: 'PUT',
        path: '/backends/-bad',
        body: { type: 'static' },
        status: 400,
        code: 'invalid_value',
        field: 'name',
      },
      {
        what: 'id of another object',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, id: 'frontend/y' },
        status: 400,
        code: 'invalid_value',
        field: 'id',
      },
      {
        what: 'missing default backend',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, backend: 'nope' },
        status: 400,
        code: 'unknown_backend',
        field: 'backend',
        says: /'nope'/,
      },
      {
        what: 'missing rule backend',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, rules: [{ type: 'path', operation: 'path_beg', value: '/a', backend: 'nope' }] },
        status: 400,
        code: 'unknown_backend',
        field: 'rules[0].backend',
      },
      {
        what: 'bind taken by another frontend',
        method: 'PUT',
        path: '/frontends/x',
        body: { ...fe, bind: `127.0.0.1:${s.port}` },
        status: 400,
        code: 'invalid_object',
        field: 'bind',
        says: /myapp/,
      },
      {
        what: 'natives HAProxy refuses',
        method: 'PUT',
        path: '/backends/x',
        body: { type: 'static', natives: ['no-such-keyword 1'] },
        status: 400,
        code: 'haproxy_rejected',
        says: /no-such-keyword/,
      },
      {
        what: 'delete of a used backend',
        method: 'DELETE',
        path: '/backends/api',
        status: 409,
        code: 'in_use',
        says: /frontend\/myapp/,
      },
      {
        what: 'POST to a static backend',
        method: 'POST',
        path: '/backends/live',
        body: { version: '1.0.0' },
        status: 409,
        code: 'not_dynamic',
      },
      {
        what: 'POST with an unknown field',
        method: 'POST',
        path: '/backends/live',
        body: { versoin: '1' },
        status: 400,
        code: 'unknown_field',
        field: 'versoin',
      },
      { what: 'unknown frontend', method: 'GET', path: '/frontends/nope', status: 404, code: 'not_found' },
      {
        what: 'delete of an unknown backend',
        method: 'DELETE',
        path: '/backends/nope',
        status: 404,
        code: 'not_found',
      },
      {
        what: 'POST to an unknown backend',
        method: 'POST',
        path: '/backends/nope',
        body: { version: '1' },
        status: 404,
        code: 'not_found',
      },
      {
        what: 'members of an unknown backend',
        method: 'GET',
        path: '/backends/nope/members',
        status: 404,
        code: 'not_found',
      },
      { what: 'unknown route', method: 'GET', path: '/nothing', status: 404, code: 'not_found' },
      {
        what: 'stale If-Match',
        method: 'PUT',
        path: '/backends/live',
        body: { type: 'static' },
        status: 412,
        code: 'precondition_failed',
      },
      {
        what: 'bad wait option',
        method: 'PUT',
        path: '/backends/x?wait=soon',
        body: { type: 'static' },
        status: 400,
        code: 'invalid_value',
        field: 'wait',
      },
    ];
    for (const c of cases) {
      const headers: Record<string, string> = c.what === 'stale If-Match' ? { 'if-match': '"0000"' } : {};
      const r = await api(c.method, c.path, c.body, headers);
      assert.equal(r.status, c.status, `${c.what}: ${r.text.slice(0, 300)}`);
      const body = obj(r);
      assert.equal(body['code'], c.code, `${c.what}: ${r.text.slice(0, 300)}`);
      assert.equal(body['statusCode'], c.status);
      assert.equal(typeof body['message'], 'string');
      if (c.field !== undefined) {
        const fields = ((body['errors'] as JsonObject[] | undefined) ?? []).map((e) => e['field']);
        assert.ok(fields.includes(c.field), `${c.what}: ${JSON.stringify(body)}`);
        assert.ok(String(body['message']).includes(c.field), `${c.what}: the message names the field`);
      }
      if (c.says !== undefined) assert.match(String(body['message']), c.says, c.what);
    }
    assert.deepEqual(await snapshot(aq.manifests), files, 'no bad request changed a file');
    assert.equal(await readFile(aq.cfgPath, 'utf8'), served, 'no bad request changed the served config');
  });

  it('answers 413 to a body over the limit, as soon as its Content-Length says so', async () => {
    // fetch cannot read an answer given before its upload ends; a raw request announces 5 MB and waits.
    const url = new URL(`${aq.api}/backends/x`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'content-length': 5_000_000 },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(status, 413);
    assert.equal((await api('GET', '/backends/x')).status, 404);
  });

  it('GET /haproxy/config returns the served config as text', async () => {
    const r = await api('GET', '/haproxy/config');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(r.text, await readFile(aq.cfgPath, 'utf8'));
  });

  it('shows a broken manifest as invalid while its last good version is served', async () => {
    const file = path.join(aq.manifests, 'backends/legacy.yaml');
    const good = await readFile(file, 'utf8');
    await writeFile(
      file,
      stringify({
        apiVersion: 'aqueduct/v1',
        kind: 'Backend',
        metadata: { name: 'legacy' },
        spec: { type: 'static', balance: 'fastest' },
      }),
    );
    try {
      const r = await eventually(
        () => api('GET', '/backends/legacy'),
        (x) => (obj(x)['status'] as JsonObject | undefined)?.['state'] === 'invalid',
      );
      const status = obj(r)['status'] as JsonObject;
      assert.equal(status['serving'], 'previous');
      assert.match(String(status['lastError']), /balance/);
      const overview = obj(await api('GET', '/status'));
      assert.ok((overview['issues'] as string[]).some((i) => i.includes('legacy') && i.includes('balance')));
      assert.equal(overview['ready'], true);
      assert.equal(await serverOf(s.port, 'www.myapp.com', '/old?x'), 'extra-2', 'still served');
    } finally {
      await writeFile(file, good);
    }
  });

  it('refuses a write to a file that holds other objects too', async () => {
    await s.write(
      aq.manifests,
      'shared.yaml',
      { apiVersion: 'aqueduct/v1', kind: 'Backend', metadata: { name: 'one' }, spec: { type: 'static' } },
      { apiVersion: 'aqueduct/v1', kind: 'Backend', metadata: { name: 'two' }, spec: { type: 'static' } },
    );
    await eventually(
      () => api('GET', '/backends/one'),
      (r) => r.status === 200,
    );
    const r = await api('PUT', '/backends/one', { type: 'static', balance: 'source' });
    assert.equal(r.status, 409);
    assert.equal(obj(r)['code'], 'shared_file');
    assert.match(String(obj(r)['message']), /shared\.yaml/);
    const d = await api('DELETE', '/backends/two');
    assert.equal(d.status, 409);
  });

  it('deletes objects: the file goes, and with wait=applied HAProxy no longer serves it', async () => {
    assert.equal((await api('PUT', '/backends/temp', { type: 'static', members: members(s, 'extra-3') })).status, 200);
    const r = await api('DELETE', '/backends/temp?wait=applied');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...obj(r), apply: undefined }, { id: 'backend/temp', deleted: true, apply: undefined });
    assert.equal((await api('GET', '/backends/temp')).status, 404);
    assert.ok(!(await readFile(aq.cfgPath, 'utf8')).includes('backend temp'));
  });

  it('honours If-Match and If-None-Match', async () => {
    const got = await api('GET', '/backends/live');
    const etag = got.headers.get('etag') as string;
    const changed = await api('PUT', '/backends/live', { ...obj(got), balance: 'leastconn' }, { 'if-match': etag });
    assert.equal(changed.status, 200, changed.text);
    assert.notEqual(changed.headers.get('etag'), etag);
    const stale = await api('PUT', '/backends/live', { ...obj(got), balance: 'source' }, { 'if-match': etag });
    assert.equal(stale.status, 412);
    assert.equal(obj(stale)['etag'], (changed.headers.get('etag') as string).replace(/"/g, ''));
    const create = await api('PUT', '/backends/live', obj(got), { 'if-none-match': '*' });
    assert.equal(create.status, 412);
    const del = await api('DELETE', '/backends/legacy', undefined, { 'if-match': '"nope"' });
    assert.equal(del.status, 412);
  });

  it('loses no update and reports no false success with 100 concurrent writers', async () => {
    assert.equal((await api('PUT', '/backends/pool', { type: 'static', balance: 'roundrobin' })).status, 200);
    const writers = 100;
    let successes = 0;
    let conflicts = 0;
    const etags = new Set<string>();
    await Promise.all(
      Array.from({ length: writers }, async (_, i) => {
        let attempt = 0;
        for (;;) {
          const got = await api('GET', '/backends/pool');
          const body = obj(got);
          const list = [...(body['members'] as JsonObject[]), { host: '127.0.0.1', port: 30000 + i }];
          const put = await api(
            'PUT',
            '/backends/pool',
            { ...body, members: list },
            { 'if-match': got.headers.get('etag') as string },
          );
          if (put.status === 412) {
            // As a real client would: back off a random while before reading again.
            conflicts++;
            attempt++;
            await new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, 20 * 2 ** attempt)));
            continue;
          }
          assert.equal(put.status, 200, put.text);
          successes++;
          etags.add(put.headers.get('etag') as string);
          return;
        }
      }),
    );
    assert.equal(successes, writers);
    assert.equal(etags.size, writers, 'every success produced a new version');
    const final = (obj(await api('GET', '/backends/pool'))['members'] as JsonObject[]).map((m) => m['port']);
    assert.deepEqual(
      [...final].sort(),
      Array.from({ length: writers }, (_, i) => 30000 + i).sort(),
      'every writer’s member is there',
    );
    assert.ok(conflicts > 0, 'the writers did contend');
  });

  it('keeps injection payloads in every field out of the config', async () => {
    // The every-field set, as API bodies, on ports of its own.
    const set = everyFieldSet();
    const bodies = set.map((d) => ({
      kind: String(d['kind']),
      name: String((d['metadata'] as JsonObject)['name']),
      spec: d['spec'] as JsonObject,
    }));
    for (const b of [...bodies].sort((a, c) => (a.kind === c.kind ? 0 : a.kind === 'Backend' ? -1 : 1))) {
      const r = await api('PUT', `/${b.kind.toLowerCase()}s/${b.name}`, b.spec);
      assert.equal(r.status, 200, `${b.kind}/${b.name}: ${r.text}`);
    }
    let refused = 0;
    let accepted = 0;
    for (const b of bodies) {
      for (const field of stringLeaves(b.spec as Json)) {
        for (const [label, payload] of Object.entries({ ...LINE_BREAKERS, ...IN_LINE })) {
          const { doc } = withPayloadAt(b.spec, field, payload);
          const route = `/${b.kind.toLowerCase()}s/${b.name}`;
          const r = await api('PUT', route, doc);
          if (r.status === 400) {
            refused++;
            continue;
          }
          assert.equal(r.status, 200, `${route} ${field.join('.')} ${label}: ${r.text}`);
          accepted++;
          assert.ok(label in IN_LINE, `${route} ${field.join('.')} accepted a ${label}`);
          const written = await readFile(path.join(aq.manifests, `${b.kind.toLowerCase()}s/${b.name}.yaml`), 'utf8');
          assert.ok(!/^listen injected/m.test(written));
          assert.equal((await api('PUT', route, b.spec)).status, 200); // back to the clean version
        }
      }
    }
    assert.ok(refused > 0 && accepted > 0);
    const config = obj(await api('GET', '/status'));
    assert.ok(!JSON.stringify(config).includes('listen injected'));
    for (const b of bodies.filter((x) => x.kind === 'Frontend'))
      assert.equal((await api('DELETE', `/frontends/${b.name}`)).status, 200);
  });

  it('serves an OpenAPI document built from the schemas', async () => {
    const r = await api('GET', '/openapi.json');
    const doc = obj(r);
    assert.equal(doc['openapi'], '3.1.0');
    const schemas = (doc['components'] as JsonObject)['schemas'] as JsonObject;
    assert.ok('frontend.spec' in schemas && 'backend.spec' in schemas);
    assert.ok('/backends/{name}' in (doc['paths'] as JsonObject));
    // The interactive reference, from the swagger-ui package's own files (no CDN).
    const ui = await fetch(`${aq.api}/docs/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui/i);
    const css = await fetch(`${aq.api}/docs/static/swagger-ui.css`);
    assert.equal(css.status, 200);
    assert.ok((await css.text()).length > 10_000);
  });

  it('answers health probes', async () => {
    assert.equal((await api('GET', '/healthz')).status, 200);
    assert.deepEqual((await api('GET', '/readyz')).body, { ok: true, ready: true });
  });

  it('reports a write HAProxy then fails to serve: 502 with the apply record', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await api('PUT', '/frontends/busy?wait=applied&timeout=20000', {
        bind: `127.0.0.1:${port}`,
        backend: 'live',
      });
      assert.equal(r.status, 502, r.text);
      const body = obj(r);
      assert.equal(body['code'], 'apply_failed');
      assert.equal((body['apply'] as JsonObject)['result'], 'failed');
      assert.match(String(body['message']), /written/);
      // HAProxy's own words, not only that it failed.
      assert.match(String((body['apply'] as JsonObject)['error']), /bind/i);
    } finally {
      blocker.close();
      await api('DELETE', '/frontends/busy');
    }
    // The frontend was set aside and is gone now: the loop's next look applies cleanly.
    await aq.waitFor(isApply(undefined, 'ok'), 40_000, aq.logs.length);
  });
});
