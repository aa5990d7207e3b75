// Every attack of the trust-boundary issue (#22), against the real process,
// a real HAProxy and real sockets: each failed before the fix and must fail
// now. A quoted keyword cannot make HAProxy run a shell, HAProxy sees none of
// Aqueduct's secrets, natives cannot serve local files, a request relayed by
// HAProxy is not trusted as local, a hostile registry cannot end the process,
// and a hostile /diff neither runs for a web page nor holds up /healthz.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Server as SocketIoServer } from 'socket.io';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { apiUp, isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { staticBackend, tempDir } from '../helpers/fixtures.js';
import { freePort, startEchoServer, startHaproxy, type EchoServer } from '../helpers/haproxy.js';
import { haproxyServerPorts } from '../helpers/edge.js';
import { embeddedRegistry, registryValidationFailures } from '../helpers/registry.js';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

const errorsOf = (r: { body: unknown }) =>
  (obj({ body: r.body } as never)['errors'] ?? []) as { field: string; message: string }[];

describe('the trust boundary, attacked', () => {
  let aq: RunningAqueduct;
  let api: ApiCall;
  let echo: EchoServer;
  before(async () => {
    aq = await startAqueductProcess({ args: ['--minReloadInterval', '100'] });
    api = apiClient(aq.api);
    echo = await startEchoServer('e');
    await apiUp(aq);
    // The API answers before the first apply has installed a config: the tests read that file.
    await aq.waitFor(isApply('reload'), 15_000, 0);
  });
  after(async () => {
    await aq.stop();
    await echo.close();
  });

  it('refuses the quoted-keyword natives that made HAProxy run a shell, from the API and from a file', async () => {
    const marker = path.join(aq.dir, 'pwned');
    const natives = [
      '"global"',
      'master-worker',
      '"program" pwn',
      `"command" /bin/sh -c "id > ${marker}"`,
      '"backend" pwn-tail',
    ];
    const r = await api('PUT', '/backends/api', {
      type: 'static',
      members: [{ host: '127.0.0.1', port: echo.port }],
      natives,
    });
    assert.equal(r.status, 400, r.text);
    assert.match(errorsOf(r)[0]?.message ?? '', /'global' opens a section/);
    const s = await scenario();
    await s.write(aq.manifests, 'api.yaml', staticBackend('api', [echo.port], { natives }));
    await s.close(); // only its write is needed
    const status = await eventually(
      async () => obj(await api('GET', '/backends/api'))['status'] as Record<string, unknown> | undefined,
      (st) => st?.['state'] === 'invalid',
      10_000,
    );
    assert.match(String(status?.['lastError']), /opens a section/);
    assert.doesNotMatch(await readFile(aq.cfgPath, 'utf8'), /pwn/);
    assert.equal(existsSync(marker), false);
  });

  it('refuses natives that would serve a local file or read the environment', async () => {
    for (const line of [
      'http-request return status 200 file /etc/passwd',
      'errorfile 503 /etc/passwd',
      'http-response set-header X "${AQUEDUCT_API_TOKEN}"',
      'http-response set-header X %[env(AQUEDUCT_API_TOKEN)]',
      'acl x hdr(host) -f /etc/passwd',
    ]) {
      const r = await api('PUT', '/frontends/leak', {
        bind: `127.0.0.1:${await freePort()}`,
        backend: 'none',
        natives: [line],
      });
      assert.equal(r.status, 400, `${line}: ${r.text}`);
      assert.equal(errorsOf(r)[0]?.field, 'natives[0]', line);
    }
  });

  it('refuses a member that points at the API, by any spelling', async () => {
    const apiPort = Number(new URL(aq.api).port);
    for (const host of ['127.0.0.1', '127.1', 'localhost', '0.0.0.0', '::ffff:127.0.0.1', '2130706433']) {
      const r = await api('PUT', '/backends/loop', { type: 'static', members: [{ host, port: apiPort }] });
      assert.equal(r.status, 400, `${host}: ${r.text}`);
      assert.match(r.text, /REST API/, host);
    }
  });

  it('does not trust a write that HAProxy relayed from loopback, in http or tcp mode', async () => {
    const apiPort = Number(new URL(aq.api).port);
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    const dir = await tempDir();
    const cfg = path.join(dir, 'relay.cfg');
    // A plain HAProxy whose frontends forward to the API, as a member pointing at it would make ours do.
    await writeFile(
      cfg,
      `defaults\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n` +
        `frontend h\n  mode http\n  bind 127.0.0.1:${httpPort}\n  default_backend api\n` +
        `backend api\n  mode http\n  server a 127.0.0.1:${apiPort}\n` +
        `listen t\n  mode tcp\n  bind 127.0.0.1:${tcpPort}\n  server a 127.0.0.1:${apiPort}\n`,
    );
    const relay = await startHaproxy(cfg, httpPort);
    try {
      for (const port of [httpPort, tcpPort]) {
        const r = await apiClient(`http://127.0.0.1:${port}`)(
          'PUT',
          '/backends/relayed',
          staticBackend('x', [echo.port])['spec'],
          {
            host: 'localhost',
          },
        );
        assert.equal(r.status, 401, r.text);
        assert.match(r.text, /through Aqueduct's own HAProxy/);
      }
      assert.equal(existsSync(path.join(aq.manifests, 'backends', 'relayed.yaml')), false);
      const direct = await api('PUT', '/backends/relayed', staticBackend('x', [echo.port])['spec']);
      assert.equal(direct.status, 200, direct.text);
    } finally {
      await relay.stop();
    }
  });

  it('refuses a cross-site /diff at once, and a hostile one never holds /healthz for 250 ms', async () => {
    const frontends = Array.from({ length: 60 }, (_f, f) => ({
      apiVersion: 'aqueduct/v1',
      kind: 'Frontend',
      metadata: { name: `f${f}` },
      spec: { bind: Array.from({ length: 120 }, (_a, a) => `10.${f}.${a}.1:80`).join(','), backend: 'b' },
    }));
    const docs = [
      ...frontends,
      { apiVersion: 'aqueduct/v1', kind: 'Backend', metadata: { name: 'b' }, spec: { type: 'static', members: [] } },
    ];
    // One file per object, as a GitOps directory holds them: 61 files, 7,200 addresses on one port.
    const body = JSON.stringify({ files: docs.map((d, i) => ({ path: `o${i}.yaml`, text: JSON.stringify(d) })) });
    const csrf = await fetch(`${aq.api}/diff`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body,
    });
    assert.equal(csrf.status, 403);
    let worst = 0;
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t = performance.now();
        await fetch(`${aq.api}/healthz`);
        worst = Math.max(worst, performance.now() - t);
      }
    })();
    const diff = await api('POST', '/diff', body);
    done = true;
    await probe;
    assert.equal(diff.status, 200, diff.text.slice(0, 300));
    assert.ok(worst < 250, `/healthz waited ${worst.toFixed(0)} ms`);
  });
});

/** A registry that lists and announces a registration nested 3,300 deep, one at Aqueduct's own API, and one good one. */
async function hostileRegistry(goodPort: number, aqPort: number): Promise<{ port: number; close(): Promise<void> }> {
  let deep: unknown = {};
  for (let i = 0; i < 3300; i++) deep = { d: deep };
  const reg = (port: number, meta: unknown = {}) => ({
    name: 'myapp',
    version: '1.0.0',
    host: '127.0.0.1',
    port,
    meta,
    id: `/myapp/1.0.0/127.0.0.1/${port}`,
  });
  const list = JSON.stringify([reg(1, deep), reg(aqPort), reg(goodPort)]);
  const server = http.createServer((_req, res) => res.end(list));
  const io = new SocketIoServer(server, { serveClient: false });
  io.on('connection', (socket) => {
    socket.emit('online', reg(2, deep));
    socket.emit('online', reg(aqPort));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, close: async () => void (await io.close()) };
}

describe("HAProxy's environment", () => {
  it("holds none of Aqueduct's secrets, even for a natives line that reads it, and only the names passed on", async () => {
    const token = 'sekrit-token-of-the-test';
    const aq = await startAqueductProcess({
      args: ['--allowUnsafeNatives', '--haproxyEnv', 'AQ_PASSED_ON'],
      env: { AQUEDUCT_API_TOKEN: token, AQ_PASSED_ON: 'yes', AQ_NOT_PASSED: 'no' },
    });
    const api = apiClient(aq.api, token);
    const echo = await startEchoServer('env');
    try {
      await apiUp(aq);
      assert.equal(
        (await api('PUT', '/backends/env', { type: 'static', members: [{ host: '127.0.0.1', port: echo.port }] }))
          .status,
        200,
      );
      const port = await freePort();
      // One header per probe on the echo server's answer (3.0 refuses some of these as `return ... hdr` arguments).
      const leak = [
        'http-response set-header x-token "t=${AQUEDUCT_API_TOKEN}"',
        'http-response set-header x-env "e=%[env(AQUEDUCT_API_TOKEN)]"',
        'http-response set-header x-passed "p=${AQ_PASSED_ON}"',
        'http-response set-header x-not "n=${AQ_NOT_PASSED}"',
      ];
      const fe = await api('PUT', '/frontends/env?wait=applied', {
        bind: `127.0.0.1:${port}`,
        backend: 'env',
        natives: leak,
      });
      assert.equal(fe.status, 200, fe.text);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
      assert.doesNotMatch(headers, new RegExp(token));
      assert.deepEqual(
        ['x-token', 'x-env', 'x-passed', 'x-not'].map((h) => res.headers.get(h)),
        ['t=', 'e=', 'p=yes', 'n='],
      );
    } finally {
      await aq.stop();
      await echo.close();
    }
  });
});

describe('the embedded registry', () => {
  it("refuses a web page's cross-site registration, and takes curl's", async () => {
    const registry = embeddedRegistry(await freePort());
    await registry.start();
    try {
      const url = `${registry.url}/registrations/myapp/1.0.0/127.0.0.1/8080`;
      const csrf = await fetch(url, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        body: '{}',
      });
      assert.equal(csrf.status, 403);
      assert.equal(JSON.parse((await registryRequest('GET', `${registry.url}/registrations`)).body).length, 0);
      assert.equal((await registryRequest('POST', url, '{}')).status, 200);
    } finally {
      await registry.stop();
    }
  });
});

describe('a hostile registry', () => {
  it('cannot end the process: deep, oversized and self-pointing registrations are dropped, the good one served', async () => {
    const echo = await startEchoServer('good');
    const aqPort = await freePort();
    const registry = await hostileRegistry(echo.port, aqPort);
    const aq = await startAqueductProcess({
      env: {
        AQUEDUCT_PORT: String(aqPort),
        AQUEDUCT_REGISTRY: 'socketio',
        AQUEDUCT_THALASSA_HOST: '127.0.0.1',
        AQUEDUCT_THALASSA_API_PORT: String(registry.port),
        AQUEDUCT_REGISTRY_POLL_INTERVAL: '200',
      },
    });
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      assert.equal(
        (await api('PUT', '/backends/live', { type: 'dynamic', name: 'myapp', version: '1.0.0' })).status,
        200,
      );
      const fe = await api('PUT', '/frontends/myapp?wait=applied', {
        bind: `127.0.0.1:${await freePort()}`,
        backend: 'live',
      });
      assert.equal(fe.status, 200, fe.text);
      // Several list polls and both socket.io messages refused, and the process still up.
      await eventually(
        () => registryValidationFailures(api),
        (n) => n >= 6,
        15_000,
      );
      assert.equal(aq.child.exitCode, null);
      assert.equal((await fetch(`${aq.api}/healthz`)).status, 200);
      assert.deepEqual(await haproxyServerPorts(aq.statsSocket), [echo.port]);
    } finally {
      await aq.stop();
      await registry.close();
      await echo.close();
    }
  });
});
