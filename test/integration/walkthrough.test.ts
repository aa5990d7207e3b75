// The README's and docs/deploying.md's shell blocks, pasted into bash against
// `npm start` the way a newcomer does, in order, and checked against what
// their text says they show: each `# {"server":"v1.1.0:…"}` comment names the
// version that answers, writes answer without an error code, and the
// deploying guide's watch loop shows each request's own status beside its
// body (the 500s of the broken release included) while the guide's switch,
// canary and rollouts run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { startDemo, stopDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/wait.js';

/** The ```sh blocks of a markdown file (after a heading, when given), each as its commands (continuations joined). */
async function shBlocks(file: string, after?: string): Promise<string[][]> {
  let text = await readFile(path.join(ROOT, file), 'utf8');
  if (after !== undefined) text = text.slice(text.indexOf(after));
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) =>
    (m[1] ?? '')
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.trim().startsWith('#')),
  );
}

/** Runs one pasted command in bash from the checkout, as the README's reader does. */
function sh(command: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: ROOT, timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

/** What a command's comment says it shows, checked against what it printed. */
function assertShows(command: string, stdout: string): void {
  const version = /# \{"server":"(v[\d.]+):/.exec(command)?.[1];
  if (version !== undefined) assert.match(stdout, new RegExp(`^\\{"server":"${version}:`), `${command}\n→ ${stdout}`);
  if (/-X (PUT|POST)/.test(command)) assert.doesNotMatch(stdout, /"code":/, `${command}\n→ ${stdout}`);
  if (/# \[\{"id":"frontend\/myapp"/.test(command)) assert.match(stdout, /^\[\{"id":"frontend\/myapp"/);
}

/** The deploying guide's watch loop, running in the background: its lines so far. */
function watch(command: string): { lines(): string[]; stop(): void } {
  const child = spawn('bash', ['-c', command], { cwd: ROOT, detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    // Whole lines only: curl writes the body and its -w status apart, so the last piece may be half a line.
    lines: () =>
      out
        .slice(0, out.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((l) => l !== ''),
    stop: () => process.kill(-(child.pid ?? 0), 'SIGTERM'),
  };
}

const rollout = async (): Promise<{ state?: string; to?: string }> =>
  ((await (await fetch('http://127.0.0.1:10000/backends/live/rollout')).json()) as { position?: object }).position ??
  {};

describe('the README and docs/deploying.md, pasted against npm start', () => {
  it("the README's Try it block shows what each of its comments says", async () => {
    const [block = []] = await shBlocks('README.md', '## Try it');
    assert.ok(block.length >= 8, block.join('\n'));
    const demo = await startDemo();
    try {
      for (const command of block) {
        const r = await sh(command);
        assert.equal(r.code, 0, command);
        assertShows(command, r.stdout);
      }
    } finally {
      await stopDemo(demo);
    }
  });

  it("docs/deploying.md's switch, canary and rollouts show in its watch loop, each status beside its own body", async () => {
    const blocks = await shBlocks('docs/deploying.md');
    const [follow, loop, blueGreen, canary, broken, healthy] = blocks;
    assert.ok(follow && loop && blueGreen && canary && broken && healthy, `${blocks.length} blocks`);
    const demo = await startDemo();
    const w = watch(loop.join('\n'));
    const since = (n: number) => w.lines().slice(n);
    try {
      for (const command of follow) assertShows(command, (await sh(command)).stdout);
      let mark = w.lines().length;
      for (const command of blueGreen) assertShows(command, (await sh(command)).stdout);
      await eventually(async () => since(mark).some((l) => l.includes('"server":"v1.1.0:')), Boolean, 10_000);
      for (const command of canary) assertShows(command, (await sh(command)).stdout);
      mark = w.lines().length;
      for (const command of broken) assertShows(command, (await sh(command)).stdout);
      await eventually(rollout, (p) => p.to === '1.2.0' && p.state === 'aborted', 90_000);
      const during = since(mark);
      const failed = during.filter((l) => l.endsWith(' 500'));
      assert.ok(failed.length > 0, `the watch shows the broken release's 500s:\n${during.join('\n')}`);
      for (const l of failed)
        assert.match(l, /^\{"server":"v1\.2\.0:9005"/, 'a 500 is the broken release, on its line');
      const aborted = w.lines().length;
      await eventually(async () => since(aborted).some((l) => l.startsWith('{"server":"v1.0.0:')), Boolean, 10_000);
      for (const command of healthy) assertShows(command, (await sh(command)).stdout);
      await eventually(rollout, (p) => p.to === '1.1.0' && p.state === 'complete', 90_000);
      for (const l of w.lines()) assert.match(l, /^\{"server":"v1\.[012]\.0:900\d".*\} (200|500)$/);
    } finally {
      w.stop();
      await stopDemo(demo);
    }
  });
});
