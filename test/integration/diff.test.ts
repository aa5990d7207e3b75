// The GitOps pipeline's checks, with the real CLI: `aqueduct validate` runs
// haproxy -c and names the manifest line HAProxy refused; `aqueduct diff`
// shows the plan and the config diff, and exits 0 / 1 / 2 as diff(1) does,
// against a config file and against a running Aqueduct's POST /diff.
import assert from 'node:assert/strict';
import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startAqueductProcess } from '../helpers/aqueduct.js';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventually } from '../helpers/wait.js';

const EXAMPLES = path.join(ROOT, 'examples', 'manifests');

async function examples(): Promise<string> {
  const dir = await tempDir();
  await cp(EXAMPLES, dir, { recursive: true });
  return dir;
}

/** Adds a native line to backend live. */
async function addNative(dir: string, line: string): Promise<void> {
  await appendFile(path.join(dir, 'backends', 'live.yaml'), `  natives:\n    - ${line}\n`);
}

describe('aqueduct validate runs haproxy -c', () => {
  it('names the file and line of a native HAProxy refuses, and skips the check when asked', async () => {
    const dir = await examples();
    await addNative(dir, 'this-is-not-haproxy 1');
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1, r.stderr);
    const line = (await readFile(path.join(dir, 'backends', 'live.yaml'), 'utf8')).split('\n').length - 1;
    assert.match(
      r.stderr,
      new RegExp(
        `^backends/live\\.yaml:${line} .*Backend/live spec\\.natives\\[0\\]: haproxy -c: unknown keyword`,
        'm',
      ),
    );
    assert.equal((await runCli(['validate', dir, '--skipHaproxyCheck'])).code, 0);
    const missing = await runCli(['validate', dir, '--haproxyBin', '/nonexistent/haproxy']);
    assert.equal(missing.code, 0);
    assert.match(missing.stderr, /haproxy -c skipped/);
  });
});

describe('aqueduct diff', () => {
  it('against a config file: 0 when equal, 1 with the plan and a unified diff, 2 on invalid manifests', async () => {
    const dir = await examples();
    const cfg = path.join(await tempDir(), 'haproxy.cfg');
    await writeFile(cfg, (await runCli(['render', dir, '--haproxyCfgPath', cfg])).stdout);
    const same = await runCli(['diff', dir, '--config', cfg]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^plan: noop/);
    await addNative(dir, 'timeout check 3s');
    const changed = await runCli(['diff', dir, '--config', cfg]);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /^plan: reload\n {2}backend live changed\n/);
    assert.match(changed.stdout, /^\+ {2}timeout check 3s$/m);
    await writeFile(path.join(dir, 'backends', 'broken.yaml'), 'kind: Backend\n');
    assert.equal((await runCli(['diff', dir, '--config', cfg])).code, 2);
    assert.equal((await runCli(['diff', dir])).code, 2, 'needs --api or --config');
  });

  it("against a running Aqueduct: its own render and members, a runtime plan for a member, 2 when it can't be reached", async () => {
    const aq = await startAqueductProcess();
    try {
      const dir = await examples();
      await cp(dir, aq.manifests, { recursive: true });
      await eventually(
        () => runCli(['diff', dir, '--api', aq.api]),
        (r) => r.code === 0,
        15_000,
      );
      const file = path.join(dir, 'backends', 'staged.yaml');
      await writeFile(
        file,
        (await readFile(file, 'utf8')).replace(/port: (\d+)/, (_m, p) => `port: ${Number(p) + 10}`),
      );
      const r = await runCli(['diff', dir, '--api', aq.api, '--json']);
      assert.equal(r.code, 1, r.stderr);
      const result = JSON.parse(r.stdout) as { plan: string; reasons: string[]; diff: string };
      assert.equal(result.plan, 'runtime');
      assert.deepEqual(result.reasons, ['servers: 1 add, 1 remove']);
      assert.match(result.diff, /^-\s+server staged_/m);
      assert.equal((await runCli(['diff', dir, '--api', 'http://127.0.0.1:1'])).code, 2);
    } finally {
      await aq.stop();
    }
  });

  it("against the config a running Aqueduct installed, given run's flags: no change at all, global included", async () => {
    const aq = await startAqueductProcess();
    try {
      const dir = await examples();
      await cp(dir, aq.manifests, { recursive: true });
      await eventually(
        () => readFile(aq.cfgPath, 'utf8').catch(() => ''),
        (t) => t.includes('frontend myapp'),
        15_000,
      );
      const flags = ['--config', aq.cfgPath, '--haproxySocketPath', aq.statsSocket, '--stateDir', aq.stateDir];
      const same = await runCli(['diff', dir, ...flags]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.equal(same.stdout, 'plan: noop\n  config unchanged\n');
      const other = await runCli(['diff', dir, ...flags, '--hardStopAfter', '1m']);
      assert.equal(other.code, 1);
      assert.match(other.stdout, /^\+ {2}hard-stop-after 1m$/m);
    } finally {
      await aq.stop();
    }
  });
});
