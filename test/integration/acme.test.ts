// ACME against a real directory (Debian's pebble): issuance with HTTP-01
// validated through Aqueduct's own HAProxy, a renewal of a certificate close
// to its expiry, and a restart that keeps the account.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiClient, obj } from '../helpers/api.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { frontend, tempDir, type JsonObject } from '../helpers/fixtures.js';
import { freePort } from '../helpers/haproxy.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { handshake, makeCert } from '../helpers/tls.js';
import { eventually } from '../helpers/wait.js';

const shop: JsonObject = {
  apiVersion: 'aqueduct/v1',
  kind: 'Certificate',
  metadata: { name: 'shop' },
  spec: { acme: { domains: ['shop.test', 'www.shop.test'] } },
};

async function startWithAcme(pebble: Pebble, dir: string): Promise<RunningAqueduct> {
  const aq = await startAqueductProcess({
    dir,
    args: ['--acmeDirectory', pebble.directory, '--acmeCaFile', pebble.caFile, '--acmeEmail', 'ops@example.test'],
  });
  await apiUp(aq);
  return aq;
}

/** The certificate's API view once pebble issued it (its issuer is pebble's intermediate). */
async function issued(aq: RunningAqueduct, notFingerprint = ''): Promise<Record<string, unknown>> {
  const api = apiClient(aq.api);
  return eventually(
    async () => obj(await api('GET', '/certificates/shop')),
    (c) =>
      c['certificateStatus'] === 'served' && /Pebble/.test(String(c['issuer'])) && c['fingerprint'] !== notFingerprint,
    30_000,
  );
}

async function writeSite(s: Scenario, aq: RunningAqueduct, plainPort: number): Promise<void> {
  const plain = frontend('plain', { bind: `127.0.0.1:${plainPort}`, backend: 'live', redirectToHttps: s.port });
  await s.write(aq.manifests, 'site.yaml', shop, plain, ...s.myapp({ tls: { certificates: ['shop'] } }));
}

describe('ACME', () => {
  it('issues through HTTP-01 answered by HAProxy, renews a certificate near its expiry, and keeps its account over a restart', async () => {
    const s = await scenario();
    const plainPort = await freePort();
    const pebble = await startPebble(plainPort);
    const dir = await tempDir('aqueduct-acme-');
    let aq = await startWithAcme(pebble, dir);
    try {
      await writeSite(s, aq, plainPort);
      const first = await issued(aq);
      assert.deepEqual(first['sans'], ['shop.test', 'www.shop.test']);
      assert.equal((await handshake(s.port, 'www.shop.test')).fingerprint, first['fingerprint']);
      const account = await readFile(path.join(aq.stateDir, 'acme', 'account.json'), 'utf8');
      await aq.stop();
      // Ten days left of an 80-day certificate: due for renewal (30 days before expiry by default).
      const old = await makeCert(['shop.test', 'www.shop.test'], -70, 10);
      await writeFile(path.join(aq.stateDir, 'acme', 'certificates', 'shop.crt'), old.cert);
      await writeFile(path.join(aq.stateDir, 'acme', 'certificates', 'shop.key'), old.key);
      aq = await startWithAcme(pebble, dir);
      const renewed = await issued(aq, String(first['fingerprint']));
      assert.notEqual(renewed['fingerprint'], old.fingerprint);
      assert.equal((await handshake(s.port, 'shop.test')).fingerprint, renewed['fingerprint']);
      assert.equal(await readFile(path.join(aq.stateDir, 'acme', 'account.json'), 'utf8'), account, 'same account');
      assert.ok(!aq.logs.some((l) => l.msg === 'registered an ACME account'), 'no second registration');
    } finally {
      await aq.stop();
      await pebble.stop();
      await s.close();
    }
  });
});
