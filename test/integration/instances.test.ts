// One HAProxy per instance: two Aqueducts with default paths on one host
// each drive their own; one pointed at another's master socket refuses to
// start (managed) or records no ok apply (external).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiClient, obj } from '../helpers/api.js';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { freePort, HAPROXY_BIN, waitForPort } from '../helpers/haproxy.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

const workerOf = async (aq: RunningAqueduct): Promise<number | undefined> =>
  (await showProcRetrying(aq.masterSocket)).workers[0];

/** An Aqueduct with default paths serving the scenario's set, its live backend on `live`. */
async function serving(s: Scenario, live: string): Promise<RunningAqueduct> {
  const aq = await startAqueductProcess({ defaults: true });
  await s.write(aq.manifests, 'm.yaml', ...s.myapp({}, [live]));
  await aq.waitFor(isApply('reload'), 15_000, 0);
  await eventually(
    () => serverOf(s.port),
    (v) => v === live,
  );
  return aq;
}

/** A plain master-worker HAProxy on its own config, as another tool on the host would run it. */
async function foreignHaproxy(dir: string): Promise<{ master: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const cfg = path.join(dir, 'other.cfg');
  const master = path.join(dir, 'other-master.sock');
  await writeFile(
    cfg,
    `global\n  stats socket ${path.join(dir, 'other-stats.sock')} mode 600 level admin\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\nfrontend other\n  bind 127.0.0.1:${port}\n  http-request return status 200 content-type text/plain string other\n`,
  );
  const hx = spawn(HAPROXY_BIN, ['-W', '-db', '-S', master, '-f', cfg], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    master,
    port,
    stop: async () => {
      hx.kill('SIGTERM');
      if (hx.exitCode === null) await once(hx, 'exit');
    },
  };
}

describe('one HAProxy per instance', () => {
  it('two instances with default paths serve their own frontends; edits and stops on one leave the other alone', async () => {
    const [s1, s2] = [await scenario(), await scenario()];
    const one = await serving(s1, 'live-1');
    const two = await serving(s2, 'extra-1');
    try {
      assert.notEqual(one.masterSocket, two.masterSocket);
      const before = await workerOf(one);
      const mark = await two.quiet();
      await s2.write(two.manifests, 'm.yaml', ...s2.myapp({ backend: 'staged' }, ['extra-1']));
      await two.waitFor(isApply('reload'), 10_000, mark);
      assert.equal(await serverOf(s2.port), 'staged-1');
      assert.equal(await serverOf(s1.port), 'live-1');
      assert.equal(await workerOf(one), before, "the other instance's edit never reloads this HAProxy");
      assert.equal(await two.stop(), 0);
      await eventually(
        () =>
          serverOf(s2.port).then(
            () => 'served',
            () => 'refused',
          ),
        (v) => v === 'refused',
      );
      assert.equal(await serverOf(s1.port), 'live-1');
      assert.equal(await workerOf(one), before, "stopping the other instance leaves this HAProxy's worker");
    } finally {
      await two.stop();
      await one.stop();
      await s1.close();
      await s2.close();
    }
  });

  it('a second instance on the same state directory refuses to start', async () => {
    const s = await scenario();
    const one = await serving(s, 'live-1');
    try {
      const r = await runCli([
        'run',
        '--manifests',
        one.manifests,
        '--haproxyCfgPath',
        one.cfgPath,
        '--port',
        String(await freePort()),
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--stateDir .*aqueduct-state is in use by another running Aqueduct/);
      assert.equal(await serverOf(s.port), 'live-1');
    } finally {
      await one.stop();
      await s.close();
    }
  });

  it("managed: pointed at another HAProxy's master socket, exits with the socket and its pid, and leaves it untouched", async () => {
    const dir = await tempDir('aqueduct-foreign-');
    const other = await foreignHaproxy(dir);
    try {
      const before = (await showProcRetrying(other.master)).workers[0];
      const args = ['run', '--manifests', dir, '--haproxyCfgPath', path.join(dir, 'haproxy.cfg')];
      const r = await runCli([...args, '--haproxyMode', 'managed', '--haproxyMasterSocket', other.master]);
      assert.equal(r.code, 2, r.stderr);
      const master = (await showProcRetrying(other.master)).masterPid;
      assert.match(r.stderr, new RegExp(`${other.master}: a live HAProxy this instance did not start`));
      assert.match(r.stderr, new RegExp(`master pid ${master}`));
      assert.equal((await showProcRetrying(other.master)).workers[0], before, 'no reload was sent to it');
      assert.equal((await fetch(`http://127.0.0.1:${other.port}/`).then((x) => x.text())).trim(), 'other');
    } finally {
      await other.stop();
    }
  });

  it('external: a master that loads another file gets no ok apply, and the status says why', async () => {
    const dir = await tempDir('aqueduct-foreign-');
    const other = await foreignHaproxy(dir);
    const s = await scenario();
    const aq = await startAqueductProcess({
      args: ['--haproxyMode', 'external', '--haproxyMasterSocket', other.master],
    });
    try {
      await s.write(aq.manifests, 'm.yaml', ...s.myapp());
      const failed = await aq.waitFor(isApply('reload', 'failed'), 15_000, 0);
      assert.match(String(failed.error), /serves a config this instance did not write/);
      assert.match(String(failed.error), new RegExp(`does not load ${aq.cfgPath}`));
      assert.ok(!aq.logs.some(isApply('reload')), 'no reload is recorded ok');
      const status = obj(await apiClient(aq.api)('GET', '/status'));
      assert.equal(status['ready'], false);
    } finally {
      await aq.stop();
      await other.stop();
      await s.close();
    }
  });
});
