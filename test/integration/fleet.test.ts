// A fleet on one machine: three Aqueduct+HAProxy pairs (their own ports and
// directories) fed by one manifests directory and one registry. After a
// manifest change and after a registry change they converge to the same
// config: byte-identical once the one line that must differ on a shared
// machine, each pair's own stats socket path, is set aside. (In containers
// every pair has the same path, and the configs are identical as they are.)
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient } from '../helpers/api.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { freePort, waitForPort } from '../helpers/haproxy.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

const PAIRS = 3;

describe('a fleet of three pairs on one git checkout and one registry', () => {
  let s: Scenario;
  let registry: ChildProcess;
  let registryPort: number;
  let manifests: string;
  const pairs: RunningAqueduct[] = [];

  const configs = async () =>
    Promise.all(
      pairs.map(async (aq) =>
        (await apiClient(aq.api)('GET', '/haproxy/config')).text
          .split('\n')
          // Each replica's own paths (on hosts of their own, replicas share them, and the mark derives from them).
          .filter(
            (l) => !l.trim().startsWith('stats socket ') && !l.trim().startsWith('description aqueduct-instance-'),
          )
          .join('\n'),
      ),
    );
  const converged = async (includes: string) =>
    eventually(configs, (c) => c.every((x) => x === c[0]) && (c[0] ?? '').includes(includes), 20_000);

  before(async () => {
    s = await scenario();
    registryPort = await freePort();
    registry = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/aqueduct.js'), 'registry', '--port', String(registryPort)],
      {
        stdio: 'ignore',
      },
    );
    await waitForPort(registryPort);
    manifests = path.join(await tempDir('aqueduct-fleet-'), 'repo', 'manifests');
    await mkdir(manifests, { recursive: true });
    const doc = (kind: string, name: string, spec: object) =>
      stringify({ apiVersion: 'aqueduct/v1', kind, metadata: { name }, spec });
    await writeFile(
      path.join(manifests, 'live.yaml'),
      doc('Backend', 'live', { type: 'dynamic', name: 'myapp', version: '1.0.0' }),
    );
    await writeFile(
      path.join(manifests, 'myapp.yaml'),
      // One port for the whole fleet: HAProxy binds with SO_REUSEPORT, as every replica would on its own host.
      doc('Frontend', 'myapp', { bind: `127.0.0.1:${s.port}`, backend: 'live' }),
    );
    await registryRequest(
      'POST',
      `http://127.0.0.1:${registryPort}/registrations/myapp/1.0.0/127.0.0.1/${s.echoes.get('live-1')?.port}`,
      '{"secondsToExpire": 600}',
    );
    for (let i = 0; i < PAIRS; i++) {
      pairs.push(
        await startAqueductProcess({
          args: ['--manifests', manifests, '--readOnly', '--label', `edge-${i}`],
          env: {
            AQUEDUCT_REGISTRY: 'socketio',
            AQUEDUCT_THALASSA_API_PORT: String(registryPort),
            AQUEDUCT_REGISTRY_POLL_INTERVAL: '1000',
          },
        }),
      );
    }
    for (const aq of pairs) await apiUp(aq);
  });

  after(async () => {
    const codes = [];
    for (const aq of pairs) codes.push(await aq.stop()); // every one, even when one fails
    assert.deepEqual(
      codes,
      pairs.map(() => 0),
    );
    registry.kill('SIGTERM');
    await once(registry, 'exit');
    await s.close();
  });

  it('start out identical and serve', async () => {
    const c = await converged(`:${s.echoes.get('live-1')?.port}`);
    assert.ok((c[0] ?? '').includes('frontend myapp'));
    assert.equal(await serverOf(s.port), 'live-1');
  });

  it('converge after a manifest change in the shared checkout', async () => {
    await writeFile(
      path.join(manifests, 'staged.yaml'),
      stringify({
        apiVersion: 'aqueduct/v1',
        kind: 'Backend',
        metadata: { name: 'staged' },
        spec: { type: 'dynamic', name: 'myapp', version: '1.1.0' },
      }),
    );
    await converged('backend staged');
  });

  it('converge after a registry change', async () => {
    const port = s.echoes.get('live-2')?.port;
    await registryRequest(
      'POST',
      `http://127.0.0.1:${registryPort}/registrations/myapp/1.0.0/127.0.0.1/${port}`,
      '{"secondsToExpire": 600}',
    );
    await converged(`127.0.0.1:${port}`);
  });

  it('refuse API writes on every replica (the checkout is the truth)', async () => {
    for (const aq of pairs)
      assert.equal((await apiClient(aq.api)('PUT', '/backends/x', { type: 'static' })).status, 405);
  });
});
