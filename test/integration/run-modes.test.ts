// The three ways of running HAProxy, crashes on either side, the original
// command line, and startup errors.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildDesiredState } from '../../src/core/rendering/desired-state.js';
import { loadManifestSet } from '../../src/core/manifests/manifests.js';
import { installRouteMaps } from '../../src/haproxy/route-map-files.js';
import { renderConfig } from '../../src/core/rendering/render.js';
import { checkConfigFile } from '../../src/haproxy/check.js';
import { showProcRetrying } from '../../src/haproxy/master-socket.js';
import { socketAlive } from '../../src/haproxy/socket-client.js';
import { isApply, startAqueductProcess } from '../helpers/aqueduct.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, yamlFile, type JsonObject } from '../helpers/fixtures.js';
import { HAPROXY_BIN, waitForPort } from '../helpers/haproxy.js';
import { DEFAULT_TEMPLATE } from '../helpers/render.js';
import { backendOf, scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';
import { apiClient, obj } from '../helpers/api.js';
import { processAlive } from '../../src/haproxy/process.js';

/** The config (and its routing maps) an external HAProxy starts from, rendered from these manifests. */
async function writeBootstrap(dir: string, docs: JsonObject[]): Promise<string> {
  const set = loadManifestSet([yamlFile('m.yaml', ...docs)]);
  const state = buildDesiredState(
    set.frontends.map((f) => f.manifest),
    set.backends.map((b) => b.manifest),
    {},
  );
  const cfg = path.join(dir, 'haproxy.cfg');
  const mapDir = `${cfg}.maps`;
  const bootstrap = renderConfig(DEFAULT_TEMPLATE, state, { statsSocketPath: path.join(dir, 'stats.sock'), mapDir });
  await installRouteMaps(bootstrap, mapDir);
  await writeFile(cfg, bootstrap);
  return cfg;
}

describe('HAProxy process modes', () => {
  it('external: reloads an HAProxy started elsewhere through its master socket and leaves it running', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-ext-');
    const docs = [s.frontend(), backendOf(s, 'live', ['live-1']), backendOf(s, 'staged', ['staged-1'])];
    // The sidecar's HAProxy starts first, on a config rendered from the same manifests.
    const cfg = await writeBootstrap(dir, docs);
    const master = path.join(dir, 'master.sock');
    const hx = spawn(HAPROXY_BIN, ['-W', '-db', '-S', master, '-f', cfg], { stdio: 'ignore' });
    try {
      await waitForPort(s.port);
      const aq = await startAqueductProcess({
        dir,
        bare: true,
        args: [
          '--manifests',
          path.join(dir, 'manifests'),
          '--haproxyCfgPath',
          cfg,
          '--haproxySocketPath',
          path.join(dir, 'stats.sock'),
          '--haproxyMasterSocket',
          master,
          '--stateDir',
          path.join(dir, 'state'),
          '--minReloadInterval',
          '100',
        ],
      });
      await s.write(aq.manifests, 'm.yaml', ...docs);
      const first = await aq.waitFor(isApply('reload'), 15_000, 0);
      assert.ok(first.workerPid !== undefined);
      const status = obj(await apiClient(aq.api)('GET', '/status'));
      assert.equal((status['haproxy'] as Record<string, unknown>)['mode'], 'external');
      const mark = await aq.quiet();
      await s.write(aq.manifests, 'm.yaml', ...s.myapp({ backend: 'staged' }));
      const second = await aq.waitFor(isApply('reload'), 10_000, mark);
      assert.notEqual(second.workerPid, first.workerPid);
      assert.equal(await serverOf(s.port), 'staged-1');
      assert.equal(await aq.stop(), 0);
      assert.equal(hx.exitCode, null, 'external HAProxy keeps running after Aqueduct stops');
      assert.equal(await serverOf(s.port), 'staged-1');
    } finally {
      // An HAProxy that already exited (it refused its config) would never emit exit again.
      if (hx.exitCode === null && hx.signalCode === null) {
        const exited = once(hx, 'exit');
        hx.kill('SIGTERM');
        await exited;
      }
      await s.close();
    }
  });

  it('pidfile: runs the daemon the original way, reloads with -sf, changes members at runtime', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-pid-');
    const pidPath = path.join(dir, 'haproxy.pid');
    const aq = await startAqueductProcess({
      dir,
      args: ['--haproxyMode', 'pidfile', '--haproxyPidPath', pidPath, '--minReloadInterval', '100'],
    });
    const pids = async () => (await readFile(pidPath, 'utf8')).trim().split(/\s+/).map(Number);
    try {
      await s.write(aq.manifests, 'm.yaml', ...s.myapp());
      await aq.waitFor(isApply('reload'), 15_000, 0);
      const [first] = await pids();
      assert.equal(await serverOf(s.port), 'live-1');
      let mark = await aq.quiet();
      await s.write(aq.manifests, 'm.yaml', ...s.myapp({}, ['live-2']));
      await aq.waitFor(isApply('runtime'), 10_000, mark);
      assert.deepEqual(await pids(), [first as number]);
      mark = await aq.quiet();
      await s.write(aq.manifests, 'm.yaml', ...s.myapp({ backend: 'staged' }, ['live-2']));
      const reload = await aq.waitFor(isApply('reload'), 10_000, mark);
      const [second] = await pids();
      assert.notEqual(second, first);
      assert.equal(reload.workerPid, second);
      assert.equal(await serverOf(s.port), 'staged-1');
      assert.equal(await aq.stop(), 0);
      assert.ok(await processAlive(second as number), 'the daemon outlives Aqueduct, as in the original');
    } finally {
      for (const pid of await pids().catch(() => [])) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
      await s.close();
    }
  });

  it('managed: restarts HAProxy with backoff when it dies, and stops it on shutdown', async () => {
    const s = await scenario();
    const aq = await startAqueductProcess();
    try {
      await s.write(aq.manifests, 'm.yaml', ...s.myapp());
      await aq.waitFor(isApply('reload'), 15_000, 0);
      const { masterPid } = await showProcRetrying(aq.masterSocket);
      await aq.quiet();
      process.kill(masterPid, 'SIGKILL');
      // A new master answers on the socket once the supervisor restarted it.
      const again = await eventually(
        () => showProcRetrying(aq.masterSocket).catch(() => undefined),
        (again) => again !== undefined && again.masterPid !== masterPid && again.workers.length > 0,
        15_000,
      );
      await waitForPort(s.port);
      assert.equal(await serverOf(s.port), 'live-1');
      assert.equal(await aq.stop('SIGINT'), 0);
      assert.equal(await socketAlive(aq.masterSocket), false, 'managed HAProxy stops with Aqueduct');
      assert.equal(await processAlive(again?.masterPid ?? 0), false);
      for (const socket of [aq.masterSocket, aq.statsSocket])
        assert.equal(await stat(socket).catch(() => 'gone'), 'gone', `no stale ${socket} left behind`);
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('kill -9 of Aqueduct never leaves a partial config, and a restart resumes without a reload', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-kill-');
    let aq = await startAqueductProcess({ dir, args: ['--minReloadInterval', '50'] });
    try {
      await s.write(aq.manifests, 'm.yaml', ...s.myapp());
      await aq.waitFor(isApply('reload'), 15_000, 0);
      for (let round = 0; round < 6; round++) {
        const members = round % 2 === 0 ? ['live-1', 'extra-1'] : ['live-2'];
        const extra: JsonObject = round % 3 === 0 ? { natives: [`http-request set-header X-Round ${round}`] } : {};
        await s.write(aq.manifests, 'm.yaml', ...s.myapp(extra, members));
        await new Promise((r) => setTimeout(r, (round * 37) % 120));
        await aq.stop('SIGKILL');
        const check = await checkConfigFile(HAPROXY_BIN, aq.cfgPath);
        assert.ok(check.ok, `round ${round}: ${check.output}`);
        assert.ok((await readFile(aq.cfgPath, 'utf8')).endsWith('\n'));
        aq = await startAqueductProcess({ dir });
        await aq.waitFor(
          (l) => isApply()(l) || isApply(undefined, 'failed')(l) || isApply(undefined, 'rejected')(l),
          15_000,
          0,
        );
      }
      // Settle, then a clean kill -9 and restart: the running HAProxy is taken over as it is.
      await aq.quiet(600);
      const before = await showProcRetrying(aq.masterSocket);
      await aq.stop('SIGKILL');
      aq = await startAqueductProcess({ dir });
      const first = await aq.waitFor(isApply(), 15_000, 0);
      assert.equal(first.plan, 'noop', `expected a noop after restart, got ${JSON.stringify(first)}`);
      const after = await showProcRetrying(aq.masterSocket);
      assert.deepEqual(after.workers, before.workers, 'same worker: no reload');
      assert.equal(after.masterPid, before.masterPid);
      assert.match(await serverOf(s.port), /^(live-|extra-)/);
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('keeps its parses for the next start, and a file edited while it was stopped is read as edited', async () => {
    const s = await scenario();
    const dir = await tempDir('aqueduct-parses-');
    let aq = await startAqueductProcess({ dir });
    try {
      await s.write(aq.manifests, 'm.yaml', ...s.myapp({}, ['live-1']));
      await aq.waitFor(isApply('reload'), 15_000, 0);
      await aq.stop();
      const kept = JSON.parse(await readFile(path.join(aq.stateDir, 'parse-cache.json'), 'utf8')) as {
        files: { path: string }[];
      };
      assert.deepEqual(
        kept.files.map((f) => f.path),
        ['m.yaml'],
      );
      await s.write(aq.manifests, 'm.yaml', ...s.myapp({}, ['live-2']));
      aq = await startAqueductProcess({ dir });
      await aq.waitFor(isApply(), 15_000, 0);
      await eventually(
        () => serverOf(s.port),
        (v) => v.startsWith('live-2'),
        10_000,
      );
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});

describe('the command line of aqueduct run', () => {
  it("thalassa-aqueduct with only the original flags runs the original's daemon, and --debug logs at debug", async () => {
    const dir = await tempDir('aqueduct-legacy-');
    const pidPath = path.join(dir, 'haproxy.pid');
    const aq = await startAqueductProcess({
      dir,
      bin: 'thalassa-aqueduct.js',
      bare: true,
      args: [
        ...['--haproxyCfgPath', path.join(dir, 'haproxy.cfg'), '--haproxySocketPath', path.join(dir, 'stats.sock')],
        ...['--haproxyPidPath', pidPath, '--label', 'legacy-test', '--debug'],
      ],
    });
    try {
      const running = await aq.waitFor((l) => l.msg === 'aqueduct running', 10_000, 0);
      assert.equal(running['label'], 'legacy-test');
      assert.equal(running['manifests'], path.join(dir, 'manifests'));
      await aq.waitFor(isApply('reload'), 15_000, 0);
      assert.match(
        await readFile(path.join(dir, 'haproxy.cfg'), 'utf8'),
        new RegExp(`stats socket ${path.join(dir, 'stats.sock')} `),
      );
      const status = obj(await apiClient(aq.api)('GET', '/status'));
      assert.equal((status['haproxy'] as JsonObject)['mode'], 'pidfile', '--haproxyPidPath means the daemon');
      const [daemon] = (await readFile(pidPath, 'utf8')).trim().split(/\s+/).map(Number);
      assert.ok(await processAlive(daemon ?? 0), `a daemon ran with -p ${pidPath}`);
      await aq.waitFor((l) => l.level === 20, 15_000, 0);
    } finally {
      await aq.stop();
      for (const pid of (await readFile(pidPath, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean))
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          // gone
        }
    }
  });

  it("says which flag to add when the original's flags meet another mode, and names a missing sudo", async () => {
    const dir = await tempDir('aqueduct-sudo-');
    const haproxy = execFileSync('sh', ['-c', `command -v "${HAPROXY_BIN}"`], { encoding: 'utf8' }).trim();
    const refused = await runCli(['run', '--haproxyMode', 'managed', '--sudo', '--manifests', dir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--sudo applies only to --haproxyMode pidfile .*add --haproxyMode pidfile/);
    const aq = await startAqueductProcess({
      dir,
      bare: true,
      // A PATH with HAProxy but no sudo, wherever sudo is installed.
      env: { PATH: path.dirname(haproxy) },
      args: [
        ...['--haproxyCfgPath', path.join(dir, 'haproxy.cfg'), '--haproxySocketPath', path.join(dir, 'stats.sock')],
        ...['--haproxyPidPath', path.join(dir, 'haproxy.pid'), '--sudo', '--haproxyBin', haproxy],
      ],
    });
    try {
      const failed = await aq.waitFor(isApply('reload', 'failed'), 15_000, 0);
      assert.match(String(failed['error']), /^sudo -n .* failed \(sudo not found on PATH\) \(tried again in 30 s\)/);
    } finally {
      await aq.stop();
    }
  });

  it('explains startup errors and exits 2', async () => {
    const dir = await tempDir();
    const cases: [string[], RegExp][] = [
      [['--haproxyBin', '/nonexistent/haproxy'], /haproxy binary not found: \/nonexistent\/haproxy/],
      [['--manifests', '/nonexistent/manifests'], /manifests directory not found: \/nonexistent\/manifests/],
      [
        ['--haproxySocketPath', '/etc/hostname/stats.sock', '--manifests', dir],
        /--haproxySocketPath: directory \/etc\/hostname is missing or not writable/,
      ],
      [['--haproxyMode', 'sideways'], /argument 'sideways' is invalid. Allowed choices are managed, external, pidfile/],
      [['--minReloadInterval', 'soon'], /--minReloadInterval soon: expected an integer/],
      [
        [
          '--statsBind',
          '*:80 ssl',
          '--manifests',
          dir,
          '--haproxyCfgPath',
          path.join(dir, 'h.cfg'),
          '--stateDir',
          path.join(dir, 's'),
        ],
        /statsBind: must be one address:port/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['run', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const env = await runCli(['run', '--manifests', dir], { env: { AQUEDUCT_DEBUG: 'maybe' } });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /AQUEDUCT_DEBUG=maybe: expected true or false/);
  });
});
