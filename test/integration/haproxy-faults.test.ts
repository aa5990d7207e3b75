// HAProxy's own faults are visible at once: a managed HAProxy killed with
// SIGKILL, and an external one that dies, appear in the ledger and a metric
// within a second or two (and in the activity feed, from the same event), and
// a managed one serves again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { apiClient, obj } from '../helpers/api.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { tempDir } from '../helpers/fixtures.js';
import { HAPROXY_BIN, waitForPort } from '../helpers/haproxy.js';
import { startServingMyapp } from '../helpers/edge.js';
import { scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

/** The ledger entry recording HAProxy's exit, once it is there. */
async function exitRecorded(aq: RunningAqueduct, withinMs: number): Promise<Record<string, unknown>> {
  const api = apiClient(aq.api);
  const entries = await eventually(
    async () => (await api('GET', '/applies?limit=20')).body as Record<string, unknown>[],
    (list) => list.some((a) => (a['triggers'] as string[]).includes('haproxy-exited')),
    withinMs,
  );
  return entries.find((a) => (a['triggers'] as string[]).includes('haproxy-exited')) ?? {};
}

const exitsCounted = async (aq: RunningAqueduct): Promise<number> => {
  const text = await (await fetch(`${aq.api}/metrics`)).text();
  return Number(/aqueduct_haproxy_process_events_total\{event="exited"\} (\d+)/.exec(text)?.[1] ?? NaN);
};

describe("HAProxy's own faults", () => {
  it('records a managed HAProxy killed with SIGKILL within a second, and serves again', async () => {
    const s = await scenario();
    const aq = await startServingMyapp(s);
    try {
      // The master re-executes after the reload that served the set, refusing connections for a moment.
      const { masterPid } = await showProcRetrying(aq.masterSocket, 50);
      process.kill(masterPid, 'SIGKILL');
      const entry = await exitRecorded(aq, 1500);
      assert.equal(entry['result'], 'failed');
      assert.match(String(entry['error']), /HAProxy exited \(SIGKILL\)/);
      assert.equal(await exitsCounted(aq), 1);
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
        15_000,
      );
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('notices an external HAProxy that dies, through its master socket', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-ext-');
    const cfg = path.join(dir, 'haproxy.cfg');
    const master = path.join(dir, 'master.sock');
    const stats = path.join(dir, 'stats.sock');
    await writeFile(
      cfg,
      `global\n  stats socket ${stats} mode 600 level admin\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend f\n  bind 127.0.0.1:${s.port}\n`,
    );
    const hx = spawn(HAPROXY_BIN, ['-W', '-db', '-S', master, '-f', cfg], { stdio: 'ignore' });
    const aq = await startAqueductProcess({
      dir,
      bare: true,
      args: ['--manifests', path.join(dir, 'manifests'), '--haproxyCfgPath', cfg, '--haproxySocketPath', stats],
      env: { AQUEDUCT_HAPROXY_MASTER_SOCKET: master, AQUEDUCT_STATE_DIR: path.join(dir, 'state') },
    });
    try {
      await waitForPort(s.port);
      await apiUp(aq);
      await s.write(aq.manifests, 'app.yaml', ...s.myapp());
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-1',
        15_000,
      );
      // The new worker serves before Aqueduct has seen the master report the reload: wait for its record,
      // or the kill lands in the middle of that reload and the test measures a reload's timeout instead.
      await eventually(
        async () => obj(await apiClient(aq.api)('GET', '/status'))['lastApply'] as Record<string, unknown> | null,
        (last) =>
          last?.['plan'] === 'reload' && last['result'] === 'ok' && (last['triggers'] as string[]).includes('watch'),
        15_000,
      );
      hx.kill('SIGKILL');
      const entry = await exitRecorded(aq, 2500);
      assert.match(String(entry['error']), /stopped answering on its master socket/);
      assert.equal(await exitsCounted(aq), 1);
    } finally {
      await aq.stop();
      hx.kill('SIGKILL');
      await s.close();
    }
  });
});
