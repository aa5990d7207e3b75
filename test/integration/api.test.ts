// The REST API against the real loop and a real HAProxy, for what only they
// show: routes written through the API and served by HAProxy, a write HAProxy
// refuses to load, a body refused from its Content-Length on a real socket,
// and a delete HAProxy stops serving. Every test uses objects of its own over
// the backends the process starts with. HTTP behaviour without HAProxy (error
// codes, shapes, ETags, injection) is in test/unit/api.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { staticBackend, type JsonObject } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

describe('REST API with a real HAProxy', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const port = (name: string) => s.echoes.get(name)?.port as number;

  before(async () => {
    s = await scenario();
    aq = await startAqueductProcess({ args: ['--minReloadInterval', '100', '--resyncInterval', '1000'] });
    api = apiClient(aq.api);
    const backends: [string, string[]][] = [
      ['live', ['live-1', 'live-2']],
      ['staged', ['staged-1']],
      ['api', ['extra-1']],
      ['legacy', ['extra-2']],
    ];
    for (const [name, echoes] of backends)
      await s.write(aq.manifests, `${name}.yaml`, staticBackend(name, echoes.map(port)));
    await eventually(
      async () => (await api('GET', '/readyz')).status,
      (status) => status === 200,
      15_000,
    );
  });

  after(async () => {
    assert.equal(await aq.stop(), 0);
    await s.close();
  });

  it('routes by the path, url and Host rules of a frontend written through the API', async () => {
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
    assert.equal((obj(r)['apply'] as JsonObject)['result'], 'ok');
    assert.equal((obj(r)['status'] as JsonObject)['state'], 'applied');
    assert.match(await readFile(path.join(aq.manifests, 'frontends/myapp.yaml'), 'utf8'), /kind: Frontend/);
    assert.equal(await serverOf(s.port, 'www.myapp.com', '/api/users'), 'extra-1');
    assert.equal(await serverOf(s.port, 'www.myapp.com', '/old?id=3'), 'extra-2');
    assert.equal(await serverOf(s.port, 'staged.myapp.com', '/'), 'staged-1');
    assert.match(await serverOf(s.port, 'www.myapp.com', '/'), /^live-/);
  });

  it('deletes a frontend: its file goes, and with wait=applied HAProxy no longer listens on its port', async () => {
    const bind = await freePort();
    const put = await api('PUT', '/frontends/temp?wait=applied', { bind: `127.0.0.1:${bind}`, backend: 'staged' });
    assert.equal(put.status, 200, put.text);
    assert.equal(await serverOf(bind), 'staged-1');
    const r = await api('DELETE', '/frontends/temp?wait=applied');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...obj(r), apply: undefined }, { id: 'frontend/temp', deleted: true, apply: undefined });
    assert.ok(!(await readFile(aq.cfgPath, 'utf8')).includes('frontend temp'));
    await assert.rejects(serverOf(bind), 'nothing listens on the port any more');
  });

  it('answers 413 to a body over the limit, as soon as its Content-Length says so', async () => {
    // fetch cannot read an answer given before its upload ends; a raw request announces 5 MB and waits.
    const url = new URL(`${aq.api}/backends/x`);
    const status = await new Promise<number>((resolve, reject) => {
      const headers = { 'content-type': 'application/json', 'content-length': 5_000_000 };
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers },
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

  it('reports a write HAProxy then fails to serve: 502 with the apply record, and serves the rest', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await api('PUT', '/frontends/busy?wait=applied&timeout=20000', {
        bind: `127.0.0.1:${busy}`,
        backend: 'live',
      });
      assert.equal(r.status, 502, r.text);
      const body = obj(r);
      assert.equal(body['code'], 'apply_failed');
      assert.equal((body['apply'] as JsonObject)['result'], 'failed');
      assert.match(String(body['message']), /written/);
      assert.match(String((body['apply'] as JsonObject)['error']), /bind/i, "HAProxy's own words");
    } finally {
      blocker.close();
      await api('DELETE', '/frontends/busy');
    }
    // The frontend was set aside and is gone now: the loop's next look applies cleanly.
    await eventually(
      async () => obj(await api('GET', '/status'))['lastApply'] as JsonObject,
      (last) => last['result'] === 'ok',
      40_000,
    );
  });
});
