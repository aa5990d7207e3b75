// TLS at the edge, against a real HAProxy: certificates picked by SNI (the
// default without it), HTTP/2 over ALPN, renewals served without a reload
// under load (an API upload, a file changed in place, a Kubernetes-style
// symlink swap), and bad pairs refused while the old one keeps serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, rename, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { frontend, tempDir, type JsonObject } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { assertNoLoss, startLoad, type Load } from '../helpers/load.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { handshake, http2Get, makeCert, writePair, type TestCert } from '../helpers/tls.js';
import { eventually } from '../helpers/wait.js';

const certificate = (name: string, spec: JsonObject): JsonObject => ({
  apiVersion: 'aqueduct/v1',
  kind: 'Certificate',
  metadata: { name },
  spec,
});

/** A Kubernetes Secret volume: tls.crt → ..data/tls.crt, ..data → a timestamped directory swapped atomically. */
async function secretVolume(
  dir: string,
  c: TestCert,
  generation: number,
): Promise<{ certFile: string; keyFile: string }> {
  const version = `..2026_12_02_${generation}`;
  await mkdir(path.join(dir, version), { recursive: true });
  await writeFile(path.join(dir, version, 'tls.crt'), c.cert);
  await writeFile(path.join(dir, version, 'tls.key'), c.key);
  await symlink(version, path.join(dir, '..data_tmp'));
  await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  if (generation === 1) {
    await symlink('..data/tls.crt', path.join(dir, 'tls.crt'));
    await symlink('..data/tls.key', path.join(dir, 'tls.key'));
  }
  return { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') };
}

interface TlsEdge {
  s: Scenario;
  aq: RunningAqueduct;
  api: ApiCall;
  dir: string;
  certs: Record<'a' | 'b' | 'c', TestCert>;
}

/** Certificate a uploaded through the API, b as files, c as a Secret volume; myapp serves all three, b by default. */
async function startTlsEdge(myappExtra: JsonObject = {}): Promise<TlsEdge> {
  const s = await scenario();
  const aq = await startAqueductProcess();
  const api = apiClient(aq.api);
  const dir = await tempDir('aqueduct-certs-');
  const certs = {
    a: await makeCert(['a.test']),
    b: await makeCert(['b.test', '*.b.test']),
    c: await makeCert(['c.test']),
  };
  try {
    await apiUp(aq);
    const put = await api('PUT', '/certificates/a', { cert: certs.a.cert, key: certs.a.key });
    assert.equal(put.status, 200, put.text);
    const b = await writePair(dir, 'b', certs.b);
    const c = await secretVolume(path.join(dir, 'secret'), certs.c, 1);
    const tls = { certificates: ['a', 'b', 'c'], defaultCertificate: 'b' };
    await s.write(
      aq.manifests,
      'tls.yaml',
      certificate('b', b),
      certificate('c', c),
      ...s.myapp({ tls, ...myappExtra }),
    );
    await eventually(
      () => handshake(s.port, 'a.test').catch(() => ({ fingerprint: '' })),
      (h) => h.fingerprint === certs.a.fingerprint,
      15_000,
    );
    // The worker serves them a moment before the loop has recorded its reload: wait for the API to say so too.
    await eventually(
      async () => (await api('GET', '/certificates')).body as JsonObject[],
      (list) => list.length === 3 && list.every((c) => c['certificateStatus'] === 'served'),
      10_000,
    );
    return { s, aq, api, dir, certs };
  } catch (err) {
    await aq.stop();
    await s.close();
    throw err;
  }
}

const stopEdge = async (e: TlsEdge) => {
  await e.aq.stop();
  await e.s.close();
};

/** Resolves once the load has made `n` more requests: each step happens under traffic. */
async function moreRequests(load: Load, n = 200): Promise<void> {
  const from = load.now().ok + load.now().failed;
  await eventually(
    async () => load.now().ok + load.now().failed,
    (count) => count >= from + n,
    20_000,
  );
}

/** A plain HTTP GET with this Host header (fetch would not send one of ours). */
function plainGet(port: number, urlPath: string, host: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host } }, (res) => {
      res.resume();
      resolve({
        status: res.statusCode ?? 0,
        ...(res.headers.location !== undefined && { location: res.headers.location }),
      });
    });
    req.on('error', reject);
  });
}

/** A renewed file is served within a second (docs/benchmarks.md: about 60 ms here). */
const SERVED_WITHIN_MS = 1000;

const fingerprintFor = (port: number, name: string) => () =>
  handshake(port, name)
    .then((h) => h.fingerprint)
    .catch(() => '');

describe('TLS frontends', () => {
  it('serves each certificate by SNI (wildcards too), the default without SNI, and HTTP/2 over ALPN', async () => {
    const e = await startTlsEdge();
    try {
      const port = e.s.port;
      assert.equal((await handshake(port, 'a.test')).fingerprint, e.certs.a.fingerprint);
      assert.equal((await handshake(port, 'shop.b.test')).fingerprint, e.certs.b.fingerprint, 'wildcard SAN');
      assert.equal((await handshake(port, 'c.test')).fingerprint, e.certs.c.fingerprint);
      assert.equal((await handshake(port)).fingerprint, e.certs.b.fingerprint, 'no SNI: the default');
      assert.equal((await handshake(port, 'unknown.test')).fingerprint, e.certs.b.fingerprint, 'no match: the default');
      assert.equal((await handshake(port, 'a.test')).alpn, 'h2');
      const h2 = await http2Get(port, 'a.test');
      assert.equal(h2.status, 200);
      assert.match(h2.body, /"server":"live-1"/);
      const summary = async () =>
        ((await e.api('GET', '/certificates')).body as JsonObject[]).map((c) => [
          c['name'],
          c['certificateStatus'],
          c['frontends'],
        ]);
      const expected = [
        ['a', 'served', ['myapp']],
        ['b', 'served', ['myapp']],
        ['c', 'served', ['myapp']],
      ];
      const listed = await eventually(summary, (l) => JSON.stringify(l) === JSON.stringify(expected), 5000);
      assert.deepEqual(listed, expected);
    } finally {
      await stopEdge(e);
    }
  });

  it('renews an uploaded pair, a file changed in place and a swapped Secret without a reload or a failed request', async () => {
    const e = await startTlsEdge();
    const port = e.s.port;
    const workerPid = async () => (await showProcRetrying(e.aq.masterSocket)).workers[0];
    try {
      const pid = await workerPid();
      const load = startLoad(port, { keepAlive: 4, fresh: 2, tls: { servername: 'a.test' } });
      await moreRequests(load);
      const a2 = await makeCert(['a.test']);
      const put = await e.api('PUT', '/certificates/a?wait=applied', { cert: a2.cert, key: a2.key });
      assert.equal(put.status, 200, put.text);
      assert.equal((await handshake(port, 'a.test')).fingerprint, a2.fingerprint, 'served once the PUT answers');
      await moreRequests(load);
      const b2 = await makeCert(['b.test', '*.b.test']);
      await writePair(e.dir, 'b', b2);
      await eventually(fingerprintFor(port, 'b.test'), (f) => f === b2.fingerprint, SERVED_WITHIN_MS);
      // Right after the last one: chokidar drops a second change of a path within 50 ms.
      const b3 = await makeCert(['b.test', '*.b.test']);
      await writePair(e.dir, 'b', b3);
      await eventually(fingerprintFor(port, 'b.test'), (f) => f === b3.fingerprint, SERVED_WITHIN_MS);
      await moreRequests(load);
      const c2 = await makeCert(['c.test']);
      await secretVolume(path.join(e.dir, 'secret'), c2, 2);
      await eventually(fingerprintFor(port, 'c.test'), (f) => f === c2.fingerprint, SERVED_WITHIN_MS);
      await moreRequests(load);
      assertNoLoss(await load.stop(), 'TLS load through three renewals');
      assert.equal(await workerPid(), pid, 'the same worker serves the renewed certificates');
      const ledger = (await e.api('GET', '/applies')).body as JsonObject[];
      const renewals = ledger.filter((r) => r['event'] === 'certificate-rotated').flatMap((r) => r['reasons']);
      for (const name of ['a', 'b', 'c'])
        assert.ok(
          renewals.some((r) => String(r).startsWith(`certificate ${name} renewed in the running worker`)),
          JSON.stringify(renewals),
        );
    } finally {
      await stopEdge(e);
    }
  });

  it('refuses a bad upload with a 400 naming the problem, keeps the old pair serving, and never shows a key', async () => {
    const e = await startTlsEdge();
    try {
      const other = await makeCert(['a.test']);
      const expired = await makeCert(['a.test'], -30, -1);
      const encrypted = (await import('node:crypto'))
        .createPrivateKey(e.certs.a.key)
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
        .toString();
      const cases: [string, JsonObject, RegExp][] = [
        ['mismatched key', { cert: e.certs.a.cert, key: other.key }, /key: key mismatch/],
        ['garbage', { cert: 'hello', key: e.certs.a.key }, /cert: invalid certificate: no PEM CERTIFICATE block/],
        ['expired', { cert: expired.cert, key: expired.key }, /cert: expired/],
        ['encrypted key', { cert: e.certs.a.cert, key: encrypted }, /key: encrypted key/],
      ];
      for (const [what, body, message] of cases) {
        const r = await e.api('PUT', '/certificates/a', body);
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.match(r.text, message, what);
      }
      assert.equal((await handshake(e.s.port, 'a.test')).fingerprint, e.certs.a.fingerprint, 'the old pair serves');
      const one = await e.api('GET', '/certificates/a');
      assert.doesNotMatch(one.text, /PRIVATE KEY/);
      assert.equal(obj(one)['fingerprint'], e.certs.a.fingerprint);
      const keyFile = String(obj(one)['keyFile']);
      assert.ok(keyFile.startsWith(e.aq.stateDir), keyFile);
      assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
      const served = path.join(e.aq.stateDir, 'tls', 'certs', 'a.pem');
      assert.equal((await stat(served)).mode & 0o777, 0o600);
      const del = await e.api('DELETE', '/certificates/a');
      assert.equal(del.status, 409, del.text);
      assert.equal(obj(del)['code'], 'in_use');
    } finally {
      await stopEdge(e);
    }
  });

  it('redirects plain HTTP to the HTTPS frontend, adds HSTS there, and keeps the last good pair of a file gone bad', async () => {
    const e = await startTlsEdge({ hsts: { maxAge: 600, includeSubDomains: true } });
    try {
      const plainPort = await freePort();
      const plain = frontend('plain', { bind: `127.0.0.1:${plainPort}`, backend: 'live', redirectToHttps: e.s.port });
      await e.s.write(e.aq.manifests, 'plain.yaml', plain);
      const redirect = await eventually(
        () => plainGet(plainPort, '/a/b?c=d', 'shop.test').catch(() => undefined),
        (r) => r?.status === 308,
        15_000,
      );
      assert.equal(redirect?.location, `https://shop.test:${e.s.port}/a/b?c=d`);
      const h2 = await http2Get(e.s.port, 'a.test');
      assert.equal(h2.status, 200);
      assert.equal(h2.headers['strict-transport-security'], 'max-age=600; includeSubDomains');
      await writeFile(path.join(e.dir, 'b.crt'), 'not a certificate');
      const b = await eventually(
        async () => obj(await e.api('GET', '/certificates/b')),
        (c) => c['certificateStatus'] === 'invalid certificate',
        10_000,
      );
      assert.equal(b['serving'], 'previous');
      assert.match(String(b['message']), /no PEM CERTIFICATE block/);
      assert.equal(
        (await handshake(e.s.port, 'b.test')).fingerprint,
        e.certs.b.fingerprint,
        'the last good pair serves',
      );
    } finally {
      await stopEdge(e);
    }
  });
});
