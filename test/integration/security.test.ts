// Secure by default, against the real process over real HTTP: natives cannot
// open a section or run programs unless --allowUnsafeNatives says so, a
// cross-site page cannot write, and refused WebSocket upgrades neither leak
// descriptors nor hold up the shutdown.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiClient, obj } from '../helpers/api.js';
import { apiUp, startAqueductProcess } from '../helpers/aqueduct.js';
import { staticBackend } from '../helpers/fixtures.js';
import { scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

/** A raw WebSocket upgrade request; resolves once the server has closed the connection (or after 3 s, false). */
function upgradeClosed(port: number, headers = ''): Promise<{ status: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () =>
      s.write(
        `GET /stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`,
      ),
    );
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ status: got.split('\r\n')[0] ?? '', closed: false });
    }, 3000);
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ status: got.split('\r\n')[0] ?? '', closed: true });
    });
    s.on('error', () => undefined);
  });
}

describe('secure defaults', () => {
  it('refuses natives that open a section or run programs, from the API and from files', async () => {
    const aq = await startAqueductProcess();
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      for (const natives of [
        ['global', '  insecure-fork-wanted'],
        ['external-check command /usr/bin/touch'],
        ['option external-check'],
      ]) {
        const r = await api('PUT', '/backends/x', {
          type: 'static',
          members: [{ host: '127.0.0.1', port: 1 }],
          natives,
        });
        assert.equal(r.status, 400, r.text);
        const errors = obj(r)['errors'] as { field: string; message: string }[];
        assert.equal(errors[0]?.field, 'natives[0]');
        assert.match(errors[0]?.message ?? '', /--allowUnsafeNatives/);
      }
      const s = await scenario();
      await s.write(
        aq.manifests,
        'x.yaml',
        staticBackend('x', [1], { natives: ['listen sneaky', '  bind 127.0.0.1:1'] }),
      );
      await s.close(); // only its write is needed
      const status = await eventually(
        async () => obj(await api('GET', '/backends/x'))['status'] as Record<string, unknown>,
        (st) => st?.['state'] === 'invalid',
        10_000,
      );
      assert.match(String(status['lastError']), /x\.yaml.*'listen' opens a section/);
      assert.doesNotMatch(await readFile(aq.cfgPath, 'utf8').catch(() => ''), /sneaky/);
    } finally {
      await aq.stop();
    }
  });

  it('accepts them with --allowUnsafeNatives, and says so at startup', async () => {
    const aq = await startAqueductProcess({ args: ['--allowUnsafeNatives'] });
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      const r = await api('PUT', '/backends/x?wait=applied', {
        type: 'static',
        members: [{ host: '127.0.0.1', port: 1 }],
        natives: ['option external-check'],
      });
      // The policy lets it through; HAProxy itself refuses it here (external checks need insecure-fork-wanted).
      assert.equal(obj(r)['code'], 'haproxy_rejected', r.text);
      assert.ok(aq.logs.some((l) => String(l.msg).startsWith('UNSAFE: --allowUnsafeNatives')));
    } finally {
      await aq.stop();
    }
  });

  it('refuses a cross-site form POST over HTTP, and writes nothing', async () => {
    const aq = await startAqueductProcess();
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      const file = path.join(aq.manifests, 'backends', 'x.yaml');
      assert.equal(
        (await api('PUT', '/backends/x', { type: 'static', members: [{ host: '127.0.0.1', port: 1 }] })).status,
        200,
      );
      const before = await readFile(file, 'utf8');
      const csrf = await fetch(`${aq.api}/backends/x`, {
        method: 'PUT',
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        body: JSON.stringify({ type: 'static', members: [{ host: '127.0.0.1', port: 2 }] }),
      });
      assert.equal(csrf.status, 403);
      assert.equal(((await csrf.json()) as { code: string }).code, 'forbidden_origin');
      assert.equal(await readFile(file, 'utf8'), before);
      const ws = await upgradeClosed(Number(new URL(aq.api).port), 'Origin: http://evil.example\r\n');
      assert.match(ws.status, /403/);
    } finally {
      await aq.stop();
    }
  });

  it('answers over-long names, huge headers and prototype keys with 4xx in its own error shape', async () => {
    const aq = await startAqueductProcess();
    const api = apiClient(aq.api);
    try {
      await apiUp(aq);
      const longName = await api('PUT', `/backends/${'a'.repeat(5000)}`, { type: 'static' });
      assert.equal(longName.status, 400);
      assert.equal(obj(longName)['code'], 'invalid_value');
      const huge = await fetch(`${aq.api}/frontends`, { headers: { 'x-big': 'a'.repeat(20_000) } });
      assert.equal(huge.status, 431);
      assert.equal(((await huge.json()) as { code: string }).code, 'headers_too_large');
      const proto = await api('PUT', '/backends/p', '{"type":"static","__proto__":{"polluted":true}}');
      assert.equal(proto.status, 400);
      assert.equal(obj(proto)['code'], 'unknown_field');
      assert.equal((await api('GET', '/backends/p')).status, 404, 'nothing was written');
    } finally {
      await aq.stop();
    }
  });

  it('closes refused WebSocket upgrades: no descriptor is left behind and the shutdown is prompt', async () => {
    const aq = await startAqueductProcess({ env: { AQUEDUCT_API_TOKEN: 'w', AQUEDUCT_API_READ_TOKEN: 'r' } });
    try {
      await apiUp(aq);
      const fds = () => readdirSync(`/proc/${aq.child.pid ?? 0}/fd`).length;
      const before = fds();
      for (let i = 0; i < 40; i++) {
        const r = await upgradeClosed(Number(new URL(aq.api).port));
        assert.match(r.status, /401/);
        assert.ok(r.closed, 'the server closed the refused upgrade');
      }
      assert.ok(fds() < before + 5, `descriptors: ${before} before, ${fds()} after 40 refused upgrades`);
      const started = Date.now();
      assert.equal(await aq.stop(), 0);
      assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
    } finally {
      await aq.stop();
    }
  });
});
