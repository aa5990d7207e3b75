// `aqueduct run` against a real HAProxy: serving, routing changes within a
// second, broken edits that change nothing, member changes without a reload,
// configs HAProxy refuses, failed reloads, drift, and the reload budget.
import { apiClient, obj, type ApiCall } from '../helpers/api.js';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { once } from 'node:events';
import { sendCommand } from '../../src/haproxy/socket-client.js';
import { showProcRetrying as showProc } from '../../src/haproxy/master-socket.js';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { getJson, freePort } from '../helpers/haproxy.js';
import { backendOf, scenario, type Scenario } from '../helpers/scenario.js';
import { frontend } from '../helpers/fixtures.js';
import { eventually, serverOf } from '../helpers/wait.js';

const BASELINE = ['live-1', 'live-2'];

describe('aqueduct run (managed HAProxy)', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;

  before(async () => {
    s = await scenario();
    aq = await startAqueductProcess({
      args: ['--minReloadInterval', '200', '--resyncInterval', '500', '--drainTimeout', '2000'],
    });
    api = apiClient(aq.api);
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({}, ['live-1', 'live-2']));
    await aq.waitFor(isApply('reload'), 15_000, 0);
  });

  // Every test starts from the same served state: myapp on live-1 and live-2, nothing else declared.
  beforeEach(async () => {
    for (const extra of ['broken.yaml', 'other.yaml']) await rm(path.join(aq.manifests, extra), { force: true });
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({}, BASELINE));
    const served = (text: string) => BASELINE.every((n) => text.includes(`:${s.echoes.get(n)?.port} `));
    await eventually(
      async () => obj(await api('GET', '/status')),
      (st) => st['issues'] !== undefined && (st['issues'] as string[]).length === 0,
      10_000,
    );
    await eventually(() => readFile(aq.cfgPath, 'utf8'), served, 10_000);
    await aq.quiet(400);
  });

  /** The worker that served before a change still serves, and no reload started after `since` (an earlier test's may still be logging). */
  const sameWorkerNoReload = async (pid: number | undefined, mark: number, since: number, what: string) => {
    assert.equal((await showProc(aq.masterSocket)).workers[0], pid);
    const reloads = aq.logs
      .slice(mark)
      .filter((l) => isApply('reload')(l) && Number(l['time']) - Number(l['durationMs']) >= since);
    assert.equal(reloads.length, 0, `no reload for ${what}: ${JSON.stringify(reloads)}`);
  };

  after(async () => {
    assert.equal(await aq.stop(), 0, 'a graceful shutdown exits 0');
    await s.close();
  });

  it('serves the manifests through HAProxy', async () => {
    assert.match(await serverOf(s.port), /^live-/);
    assert.equal(await serverOf(s.port, 'staged.myapp.com'), 'staged-1');
  });

  it('changes routing within a second of an edit', async () => {
    const t0 = Date.now();
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({ backend: 'staged' }, ['live-1', 'live-2']));
    await eventually(
      () => serverOf(s.port),
      (v) => v === 'staged-1',
      1000,
    );
    assert.ok(Date.now() - t0 < 1000);
    await aq.quiet();
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({}, ['live-1', 'live-2']));
    await eventually(
      () => serverOf(s.port),
      (v) => v.startsWith('live-'),
      3000,
    );
    await aq.quiet(600);
  });

  it('points a Host rule at another existing backend through its routing map: same worker, no reload', async () => {
    const mark = await aq.quiet(600);
    const pidBefore = (await showProc(aq.masterSocket)).workers[0];
    const t0 = Date.now();
    const toLive = [
      { type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.myapp.com', backend: 'live' },
    ];
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({ rules: toLive }, BASELINE));
    const applied = await aq.waitFor(isApply('runtime'), 5000, mark);
    assert.deepEqual(applied.reasons, ['routing maps: myapp.1.map']);
    await eventually(
      () => serverOf(s.port, 'staged.myapp.com'),
      (v) => v.startsWith('live-'),
      5000,
    );
    await sameWorkerNoReload(pidBefore, mark, t0, 'a rule change');
    // The map file says the same, for HAProxy's next start or reload.
    await eventually(
      () => readFile(`${aq.cfgPath}.maps/myapp.1.map`, 'utf8'),
      (text) => text === 'staged.myapp.com live\n',
      5000,
    );
  });

  it('puts back a routing map changed by hand on the runtime socket, within a resync', async () => {
    const file = `${aq.cfgPath}.maps/myapp.1.map`;
    const mark = aq.logs.length;
    assert.equal((await sendCommand(aq.statsSocket, `set map ${file} staged.myapp.com live`)).trim(), '');
    const repair = await aq.waitFor(
      (l) => l.msg === 'repairing drift between HAProxy and the applied config',
      5000,
      mark,
    );
    assert.deepEqual(repair['reasons'], [`routing map ${file} differs from the applied config`]);
    await eventually(
      () => serverOf(s.port, 'staged.myapp.com'),
      (v) => v === 'staged-1',
      5000,
    );
    assert.match(await sendCommand(aq.statsSocket, `show map ${file}`), / staged\.myapp\.com staged$/m);
  });

  it('still asks haproxy -c about a new regular expression in a regex map, and refuses the write HAProxy refuses', async () => {
    const port = await freePort();
    const rules = (value: string) => [{ type: 'path', operation: 'path_reg', value, backend: 'staged' }];
    const body = (value: string) => ({ bind: `127.0.0.1:${port}`, backend: 'live', rules: rules(value) });
    try {
      const ok = await api('PUT', '/frontends/regex?wait=applied', body('^/ok/'));
      assert.equal(ok.status, 200, ok.text);
      const bad = await api('PUT', '/frontends/regex', body('^/(bad'));
      assert.equal(bad.status, 400, bad.text);
      assert.equal(obj(bad)['code'], 'haproxy_rejected');
      assert.match(String(obj(bad)['message']), /regex/);
      assert.equal(await serverOf(port, 'www.example.org', '/ok/x'), 'staged-1', 'the served rule stays');
    } finally {
      await api('DELETE', '/frontends/regex?wait=applied');
    }
  });

  it('applies a member-only change through the runtime API: same worker, no reload', async () => {
    const mark = await aq.quiet(600);
    const pidBefore = (await showProc(aq.masterSocket)).workers[0];
    const t3 = Date.now();
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({}, ['live-1', 'extra-1']));
    const applied = await aq.waitFor(isApply('runtime'), 5000, mark);
    assert.deepEqual(applied.reasons, ['servers: 1 add, 1 remove']);
    const seen = new Set<string>();
    await eventually(
      async () => {
        seen.add(await serverOf(s.port));
        return seen;
      },
      (v) => v.has('extra-1'),
      5000,
    );
    await sameWorkerNoReload(pidBefore, mark, t3, 'a member change');
    // The drained server leaves HAProxy entirely once its sessions are gone.
    await eventually(
      () => sendCommand(aq.statsSocket, 'show servers state live'),
      (out) => !out.includes(`:${s.echoes.get('live-2')?.port} `),
      5000,
    );
    // And the installed file records the change (checked and installed in the background), so a later reload serves the same.
    await eventually(
      () => readFile(aq.cfgPath, 'utf8'),
      (text) => text.includes(`live_127.0.0.1:${s.echoes.get('extra-1')?.port}`),
      5000,
    );
  });

  it('does nothing the second time: a touch without a change is a noop', async () => {
    const mark = await aq.quiet();
    const file = path.join(aq.manifests, 'myapp.yaml');
    await writeFile(file, await readFile(file, 'utf8'));
    const noop = await aq.waitFor(isApply('noop'), 5000, mark);
    assert.deepEqual(noop.reasons, ['config unchanged']);
  });

  it('keeps serving the previous config when an edit is invalid, and says why', async () => {
    const cfgBefore = await readFile(aq.cfgPath, 'utf8');
    await aq.quiet();
    await writeFile(
      path.join(aq.manifests, 'myapp.yaml'),
      (await readFile(path.join(aq.manifests, 'myapp.yaml'), 'utf8'))
        .replace('balance: roundrobin', 'balance: fastest')
        .replace(/type: static/g, 'type: static\n  balance: fastest'),
    );
    const issues = await eventually(
      async () => (obj(await api('GET', '/status'))['issues'] as string[]) ?? [],
      (list) => list.some((i) => i.includes('spec.balance: must be an HAProxy balance algorithm')),
    );
    assert.ok(
      issues.some((i) => /^myapp\.yaml:\d+:\d+ \(document 2\) Backend\/live spec\.balance/.test(i)),
      issues.join('\n'),
    );
    const live = obj(await api('GET', '/backends/live'))['status'] as Record<string, unknown>;
    assert.deepEqual([live['state'], live['serving']], ['invalid', 'previous'], 'the last good Backend/live is served');
    assert.equal(await readFile(aq.cfgPath, 'utf8'), cfgBefore);
    assert.match(await serverOf(s.port), /^live-[12]$/);
    // A file that no longer parses at all keeps its objects too.
    await writeFile(path.join(aq.manifests, 'myapp.yaml'), 'kind: [unclosed');
    await eventually(
      async () => (obj(await api('GET', '/status'))['issues'] as string[]) ?? [],
      (list) => list.some((i) => i.includes('YAML syntax error')),
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await readFile(aq.cfgPath, 'utf8'), cfgBefore);
    assert.equal(await serverOf(s.port, 'staged.myapp.com'), 'staged-1');
    const restored = aq.logs.length;
    await s.write(aq.manifests, 'myapp.yaml', ...s.myapp({}, ['live-1', 'extra-1']));
    await aq.waitFor(isApply(undefined, 'ok'), 5000, restored);
    assert.deepEqual(obj(await api('GET', '/status'))['issues'], [], 'all manifests are valid again');
  });

  it('refuses a config haproxy -c rejects, naming the manifest, and keeps serving', async () => {
    const cfgBefore = await readFile(aq.cfgPath, 'utf8');
    const mark = await aq.quiet();
    await s.write(aq.manifests, 'broken.yaml', backendOf(s, 'broken', ['extra-2'], { natives: ['frobnicate yes'] }));
    const rejected = await aq.waitFor(isApply('reload', 'rejected'), 5000, mark);
    assert.match(rejected.error ?? '', /haproxy -c refused the candidate/);
    assert.match(rejected.error ?? '', /broken\.yaml Backend\/broken: .*frobnicate/);
    assert.equal(await readFile(aq.cfgPath, 'utf8'), cfgBefore);
    assert.match(await serverOf(s.port), /^live-[12]$/);
    const removed = aq.logs.length;
    await rm(path.join(aq.manifests, 'broken.yaml'));
    await aq.waitFor(isApply(undefined, 'ok'), 5000, removed);
  });

  it('detects a failed reload, restores the last good file and keeps the old worker serving', async () => {
    // Something else holds a port without SO_REUSEPORT: the config is valid, the bind fails at load.
    const blocker = net.createServer();
    const taken = await freePort();
    blocker.listen(taken, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const cfgBefore = await readFile(aq.cfgPath, 'utf8');
      const mark = await aq.quiet();
      await s.write(aq.manifests, 'other.yaml', frontend('other', { bind: `127.0.0.1:${taken}`, backend: 'staged' }));
      const failed = await aq.waitFor(isApply('reload', 'failed'), 10_000, mark);
      assert.match(failed.error ?? '', /failed to load the new config/);
      assert.equal(await readFile(aq.cfgPath, 'utf8'), cfgBefore);
      assert.equal(await serverOf(s.port, 'staged.myapp.com'), 'staged-1');
      await rm(path.join(aq.manifests, 'other.yaml'));
    } finally {
      blocker.close();
    }
  });

  it('repairs drift: a server disabled behind its back is enabled again', async () => {
    const extra = `live/live_127.0.0.1:${s.echoes.get('live-2')?.port}`;
    await aq.quiet();
    await sendCommand(aq.statsSocket, `disable server ${extra}`);
    await eventually(
      () => sendCommand(aq.statsSocket, 'show servers state live'),
      (out) => {
        const line = out.split('\n').find((l) => l.includes(`live_127.0.0.1:${s.echoes.get('live-2')?.port} `));
        return line !== undefined && line.split(/\s+/)[6] === '0';
      },
    );
  });

  it('coalesces structural changes into the reload budget and serves member changes at once', async () => {
    const mark = await aq.quiet();
    for (let i = 0; i < 5; i++) {
      await s.write(
        aq.manifests,
        'myapp.yaml',
        ...s.myapp({ natives: [`http-request set-header X-Gen ${i}`] }, ['live-1', 'extra-1']),
      );
      await new Promise((r) => setTimeout(r, 40));
    }
    await s.write(
      aq.manifests,
      'myapp.yaml',
      ...s.myapp({ natives: ['http-request set-header X-Gen final'] }, ['live-1', 'extra-1', 'extra-3']),
    );
    await eventually(
      async () => (await getJson(s.port, '/', 'x')).status,
      (st) => st === 200,
    );
    await aq.waitFor((l) => isApply('reload')(l) && l.durationMs !== undefined, 5000, mark);
    await new Promise((r) => setTimeout(r, 700));
    const reloads = aq.logs.slice(mark).filter(isApply('reload')).length;
    assert.ok(reloads <= 4, `6 edits within ~250 ms took ${reloads} reloads with a 200 ms budget`);
    await eventually(
      () => serverOf(s.port),
      (v) => v === 'extra-3',
      3000,
    );
  });
});
