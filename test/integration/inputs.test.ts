// Odd directory trees never crash, block or empty what serves: symlink
// loops, unreadable files and directories (as nobody, where root would read
// them), a directory removed and made again, FIFOs and huge files. Each is
// reported for itself; the rest keeps applying and the watcher keeps working.
import assert from 'node:assert/strict';
import { chmod, mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { apiClient, obj } from '../helpers/api.js';
import { NOBODY, type AqueductOptions, type RunningAqueduct } from '../helpers/aqueduct.js';
import { startServingMyapp } from '../helpers/edge.js';
import { scenario, backendOf, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

/** Aqueduct with no periodic resync (so only the watcher can notice edits), serving the myapp set. */
const started = (s: Scenario, opts: AqueductOptions = {}): Promise<RunningAqueduct> =>
  startServingMyapp(s, { ...opts, args: ['--resyncInterval', '0', ...(opts.args ?? [])] });

const rssMb = (pid: number): number => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString()) / 1024;

/** The largest RSS seen over a window: a watcher that walks a loop grows by tens of MB a second. */
async function peakRssMb(pid: number, windowMs: number): Promise<number> {
  let peak = 0;
  for (const end = Date.now() + windowMs; Date.now() < end; await new Promise((r) => setTimeout(r, 250)))
    peak = Math.max(peak, rssMb(pid));
  return peak;
}

describe('odd manifest trees', () => {
  it('survives two symlinks to the directory itself with bounded memory, and still follows edits', async () => {
    const s = await scenario();
    const aq = await started(s);
    try {
      await symlink('.', path.join(aq.manifests, 'a'));
      await symlink('.', path.join(aq.manifests, 'b'));
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({}, ['live-2']));
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-2',
        10_000,
      );
      const rss = await peakRssMb(aq.child.pid ?? 0, 6000);
      assert.ok(rss < 250, `peak RSS ${rss.toFixed(0)} MB over 6 s`);
      assert.equal((await apiClient(aq.api)('GET', '/status')).status, 200);
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('reports an unreadable file and directory (as nobody), keeps what they served and applies the rest', async () => {
    const s = await scenario();
    const aq = await started(s, { asUser: NOBODY });
    const api = apiClient(aq.api);
    try {
      await s.write(aq.manifests, 'other.yaml', backendOf(s, 'other', ['extra-1']));
      await eventually(
        async () => (obj(await api('GET', '/backends/other'))['status'] as Record<string, unknown>)['state'],
        (st) => st === 'applied',
        10_000,
      );
      await chmod(path.join(aq.manifests, 'other.yaml'), 0o000);
      await mkdir(path.join(aq.manifests, 'locked'), { mode: 0o700 });
      await writeFile(path.join(aq.manifests, 'locked', 'x.yaml'), 'not: read\n');
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({}, ['live-2']));
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-2',
        10_000,
      );
      const status = await api('GET', '/status');
      assert.equal(status.status, 200, status.text);
      assert.match(status.text, /other\.yaml cannot be read: EACCES/);
      assert.match(status.text, /locked\/ cannot be read: EACCES/);
      assert.equal((await api('GET', '/backends')).status, 200);
      assert.match(String((await api('GET', '/haproxy/config')).text), /backend other/, 'what it served keeps serving');
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('answers while the directory is gone, keeps serving, and watches it again once it is back', async () => {
    const s = await scenario();
    const aq = await started(s);
    const api = apiClient(aq.api);
    try {
      await rm(aq.manifests, { recursive: true });
      await eventually(
        async () => (await api('GET', '/status')).text,
        (t) => t.includes('the manifests directory cannot be read'),
        10_000,
      );
      assert.equal((await api('GET', '/backends')).status, 200);
      assert.equal(await serverOf(s.port), 'live-1', 'nothing is taken away while it is gone');
      await mkdir(aq.manifests);
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({}, ['live-2']));
      // No periodic resync: only a re-armed watcher can see this.
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-2',
        10_000,
      );
    } finally {
      await aq.stop();
      await s.close();
    }
  });

  it('skips a FIFO and reports a file over the size limit without reading it', async () => {
    const s = await scenario();
    const aq = await started(s);
    const api = apiClient(aq.api);
    try {
      execFileSync('mkfifo', [path.join(aq.manifests, 'pipe.yaml')]);
      const huge = path.join(aq.manifests, 'huge.yaml');
      await writeFile(huge, '');
      await truncate(huge, 200 * 1024 * 1024); // sparse: 200 MiB that take no disk
      await s.write(aq.manifests, 'app.yaml', ...s.myapp({}, ['live-2']));
      await eventually(
        () => serverOf(s.port),
        (x) => x === 'live-2',
        10_000,
      );
      const status = await api('GET', '/status');
      assert.match(status.text, /huge\.yaml cannot be read: .*over the .*-byte limit/);
      assert.doesNotMatch(status.text, /pipe\.yaml/);
      const rss = rssMb(aq.child.pid ?? 0);
      assert.ok(rss < 300, `RSS ${rss.toFixed(0)} MB`);
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});
