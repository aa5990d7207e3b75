// The pure parts of TLS: what a pair is (as OpenSSL reads it), what the
// served file should hold when the declared pair is bad, the checks across
// certificates and frontends, and what the renderer writes for them.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspectPair, pemBlocks, validityAt } from '../../src/core/tls/certificate.js';
import { decideCertificate, type Served } from '../../src/core/tls/certificate-state.js';
import { crtListPath, crtListText } from '../../src/core/tls/tls-files.js';
import { afterFailure, FRESH_RENEWAL, mayOrder, renewalDue } from '../../src/core/tls/renewal.js';
import { loadManifestSet } from '../../src/core/manifests/manifests.js';
import { uploadProblems } from '../../src/core/manifests/api-certificates.js';
import { frontend, staticBackend, yamlFile, type JsonObject } from '../helpers/fixtures.js';
import { renderFiles } from '../helpers/render.js';
import { makeCert, type TestCert } from '../helpers/tls.js';

const certificate = (name: string, spec: JsonObject): JsonObject => ({
  apiVersion: 'aqueduct/v1',
  kind: 'Certificate',
  metadata: { name },
  spec,
});
const NOW = Date.now();
const served = (c: TestCert, placeholder = false): Served => {
  const pair = inspectPair(c.cert, c.key);
  assert.ok(pair.ok);
  return { pem: pair.pem, info: pair.info, placeholder };
};

describe('certificate pairs', () => {
  it('reads subject, names, validity and fingerprint, and serves the chain then the key with no blank line', async () => {
    const c = await makeCert(['shop.test', '*.shop.test']);
    const pair = inspectPair(`\n${c.cert}\n\n`, c.key.replace(/\n/g, '\r\n'));
    assert.ok(pair.ok);
    assert.equal(pair.info.subject, 'CN=shop.test');
    assert.deepEqual(pair.info.sans, ['shop.test', '*.shop.test']);
    assert.equal(pair.info.fingerprint, c.fingerprint);
    assert.doesNotMatch(pair.pem, /\n\s*\n/);
    assert.deepEqual(
      pemBlocks(pair.pem).map((b) => b.label),
      ['CERTIFICATE', 'PRIVATE KEY'],
    );
    assert.equal(validityAt(pair.info, NOW), 'valid');
  });

  it('names each problem: garbage, no key, an encrypted key, a key of another certificate', async () => {
    const a = await makeCert(['a.test']);
    const b = await makeCert(['b.test']);
    const encrypted = createPrivateKey(a.key)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    const problem = (cert: string, key: string) => {
      const r = inspectPair(cert, key);
      return r.ok ? 'ok' : r.problem;
    };
    assert.equal(problem('garbage', a.key), 'invalid certificate');
    assert.equal(problem(a.cert.replace(/[A-Za-z]{10}/, 'xxxxxxxxxx'), a.key), 'invalid certificate');
    assert.equal(problem(a.cert, 'no key here'), 'invalid key');
    assert.equal(problem(a.cert, encrypted), 'encrypted key');
    assert.equal(problem(a.cert, b.key), 'key mismatch');
    assert.equal(problem(a.cert + a.key, a.cert + a.key), 'ok', 'one combined PEM as both files');
  });

  it('keeps the last good pair for a bad one, a placeholder where there is none, and serves an expired pair only over nothing better', async () => {
    const good = await makeCert(['a.test']);
    const expired = await makeCert(['a.test'], -30, -1);
    const bad = { kind: 'pair' as const, cert: 'garbage', key: good.key };
    const kept = decideCertificate('a', bad, served(good), NOW);
    assert.equal(kept.state.serving, 'previous');
    assert.equal(kept.state.condition, 'invalid certificate');
    assert.equal(kept.pem, served(good).pem);
    assert.equal(decideCertificate('a', bad, undefined, NOW).pem, 'placeholder');
    const placeholder = served(good, true);
    assert.equal(decideCertificate('a', bad, placeholder, NOW).pem, placeholder.pem, 'the placeholder is kept');
    const stale = { kind: 'pair' as const, cert: expired.cert, key: expired.key };
    assert.equal(decideCertificate('a', stale, served(good), NOW).state.serving, 'previous');
    const only = decideCertificate('a', stale, undefined, NOW);
    assert.equal(only.state.serving, 'current');
    assert.equal(only.state.condition, 'expired');
    const pending = decideCertificate('a', { kind: 'pending', message: 'waiting' }, undefined, NOW);
    assert.deepEqual([pending.state.condition, pending.pem], ['pending', 'placeholder']);
  });

  it('refuses uploads that are garbage, mismatched, expired or not yet valid, naming the field', async () => {
    const a = await makeCert(['a.test']);
    const future = await makeCert(['a.test'], 10, 40);
    assert.equal(uploadProblems({ certFile: '/x', keyFile: '/y' }, NOW), undefined, 'not an upload');
    assert.deepEqual(uploadProblems({ cert: a.cert, key: a.key }, NOW), []);
    assert.equal(uploadProblems({ cert: a.cert }, NOW)?.[0]?.field, 'key');
    assert.match(uploadProblems({ cert: future.cert, key: future.key }, NOW)?.[0]?.message ?? '', /^not yet valid/);
    assert.match(uploadProblems({ cert: a.cert, key: a.key, acme: {} }, NOW)?.[0]?.message ?? '', /one source/);
  });
});

describe('TLS frontends', () => {
  const files = (frontendSpec: JsonObject, ...certs: JsonObject[]) => [
    yamlFile(
      'x.yaml',
      frontend('shop', { bind: '127.0.0.1:8443', backend: 'live', ...frontendSpec }),
      staticBackend('live', [9001]),
      ...certs,
    ),
  ];
  const cert = (name: string) =>
    certificate(name, { certFile: `/etc/tls/${name}.crt`, keyFile: `/etc/tls/${name}.key` });

  it('puts a crt-list with the default first, the minimum version and ALPN on every bind, and HSTS', () => {
    const tls = { certificates: ['a', 'b'], defaultCertificate: 'b' };
    const { config, set } = renderFiles(
      files({ bind: '127.0.0.1:8443,[::1]:8443', tls, hsts: { preload: true } }, cert('a'), cert('b')),
      {},
      { statsSocketPath: '/run/aq/stats.sock', tlsDir: '/run/aq/tls' },
    );
    assert.deepEqual(set.issues, []);
    const list = crtListPath('/run/aq/tls', 'shop', ['b', 'a']);
    assert.equal(crtListText('/run/aq/tls', ['b', 'a']), '/run/aq/tls/certs/b.pem\n/run/aq/tls/certs/a.pem\n');
    for (const addr of ['127.0.0.1:8443', '[::1]:8443'])
      assert.ok(config.includes(`  bind ${addr} ssl crt-list ${list} ssl-min-ver TLSv1.2 alpn h2,http/1.1\n`), config);
    assert.ok(config.includes('http-response set-header Strict-Transport-Security "max-age=31536000; preload"'));
    assert.notEqual(list, crtListPath('/run/aq/tls', 'shop', ['a', 'b']), 'another default, another list');
  });

  it('redirects a plain frontend to HTTPS, on 443 without a port in the URL', () => {
    const to = (port: number | true) => renderFiles(files({ redirectToHttps: port })).config;
    assert.match(
      to(true),
      /http-request redirect code 308 location https:\/\/%\[req\.hdr\(host\),regsub\(:\[0-9\]\+\$,\)\]%\[capture\.req\.uri\]/,
    );
    assert.match(
      to(8443),
      /location https:\/\/%\[req\.hdr\(host\),regsub\(:\[0-9\]\+\$,\)\]:8443%\[capture\.req\.uri\]/,
    );
  });

  it('refuses a frontend naming a missing certificate, a default it does not list, HSTS without TLS, a redirect with TLS', () => {
    const messages = (spec: JsonObject, ...certs: JsonObject[]) =>
      loadManifestSet(files(spec, ...certs)).issues.map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(messages({ tls: { certificates: ['nope'] } }), [
      "spec.tls.certificates[0]: certificate 'nope' is not defined (or is invalid)",
    ]);
    assert.deepEqual(messages({ tls: { certificates: ['a'], defaultCertificate: 'b' } }, cert('a')), [
      "spec.tls.defaultCertificate: 'b' is not in tls.certificates",
    ]);
    assert.match(messages({ hsts: {} })[0] ?? '', /^spec\.hsts: needs tls/);
    assert.match(
      messages({ tls: { certificates: ['a'] }, redirectToHttps: true }, cert('a'))[0] ?? '',
      /^spec\.redirectToHttps/,
    );
    assert.match(messages({}, certificate('x', {}))[0] ?? '', /must name its source/);
    assert.match(
      messages({}, certificate('x', { certFile: '/a', keyFile: '/b', acme: { domains: ['a.test'] } }))[0] ?? '',
      /two sources/,
    );
    assert.match(messages({}, certificate('x', { certFile: '/a' }))[0] ?? '', /keyFile/);
  });
});

describe('ACME renewal times', () => {
  const DAY = 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const cert = (fromDays: number, toDays: number) => ({
    notBefore: iso(NOW + fromDays * DAY),
    notAfter: iso(NOW + toDays * DAY),
  });

  it('orders what was never issued, and renews within renewBefore of expiry but never before two thirds of the life', () => {
    const thirtyDays = 30 * DAY;
    assert.equal(renewalDue(undefined, NOW, thirtyDays), true);
    assert.equal(renewalDue(cert(-60, 31), NOW, thirtyDays), false, '31 days left of 90');
    assert.equal(renewalDue(cert(-61, 29), NOW, thirtyDays), true, '29 days left of 90');
    assert.equal(renewalDue(cert(0, 6), NOW, thirtyDays), false, 'a fresh 6-day certificate is not renewed at once');
    assert.equal(renewalDue(cert(-4.5, 1.5), NOW, thirtyDays), true, 'past two thirds of its 6 days');
  });

  it('waits after a failure, doubling from a minute up to six hours, and orders again once the wait is over', () => {
    let state = FRESH_RENEWAL;
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      state = afterFailure(state, 'connection refused', NOW);
      waits.push((state.notBefore - NOW) / 60_000);
    }
    assert.deepEqual(waits.slice(0, 4), [1, 2, 4, 8]);
    assert.equal(waits.at(-1), 360);
    assert.equal(mayOrder(state, NOW + 359 * 60_000), false);
    assert.equal(mayOrder(state, NOW + 360 * 60_000), true);
    assert.equal(state.lastError, 'connection refused');
  });
});
