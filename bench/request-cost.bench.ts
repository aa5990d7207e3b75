// What one request body costs the event loop: PUT /backends (JSON) and
// POST /diff (YAML inside JSON) of growing size against a real Aqueduct,
// while a prober sends GET /healthz back to back and records its worst wait.
// The peer in the same run is the prober's worst wait with no request at all.
// Finds the body size under which no request holds /healthz for 100 ms.
// Usage: npx tsx bench/request-cost.bench.ts [runs]
import { apiUp, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { fmt, machine, now } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
const SIZES_KB = [64, 256, 1024, 2048, 4096];
const out = (line: string) => process.stdout.write(`${line}\n`);

/** Static members enough for a JSON body of about `kb` kilobytes. */
function members(kb: number): { host: string; port: number }[] {
  const count = Math.min(100_000, Math.floor((kb * 1024) / 36));
  return Array.from({ length: count }, (_v, i) => ({
    host: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 1 + (i % 60000),
  }));
}

/** The worst /healthz wait while `work` runs. */
async function worstHealthzDuring(
  base: string,
  work: () => Promise<unknown>,
): Promise<{ worst: number; took: number }> {
  let worst = 0;
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t = now();
      await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
      worst = Math.max(worst, now() - t);
    }
  })();
  const t = now();
  await work();
  const took = now() - t;
  done = true;
  await probe;
  return { worst, took };
}

async function oneRun(run: number): Promise<void> {
  // No loop work during the measurement: the PUT's natives are refused after parsing and validation.
  const aq = await startAqueductProcess({ args: ['--resyncInterval', '0'] });
  try {
    await apiUp(aq);
    const idle = await worstHealthzDuring(aq.api, () => new Promise((r) => setTimeout(r, 500)));
    const rows: string[] = [`run ${run}: idle (peer) worst /healthz ${fmt(idle.worst)}`];
    for (const kb of SIZES_KB) {
      const list = members(kb);
      const put = JSON.stringify({ type: 'static', members: list, natives: ['"global"'] }); // refused by policy after parsing and validation
      // A dry run takes files of at most 64 KiB: the same members as backends of 500, one file each (~20 KB).
      const files = Array.from({ length: Math.ceil(list.length / 500) }, (_f, i) => ({
        path: `big${i}.yaml`,
        text: `apiVersion: aqueduct/v1\nkind: Backend\nmetadata: { name: big${i} }\nspec:\n  type: static\n  members:\n${list
          .slice(i * 500, (i + 1) * 500)
          .map((m) => `    - { host: ${m.host}, port: ${m.port} }`)
          .join('\n')}\n`,
      }));
      const diff = JSON.stringify({ files });
      const send = (method: string, path: string, body: string) => () =>
        fetch(`${aq.api}${path}`, { method, headers: { 'content-type': 'application/json' }, body }).then((r) =>
          r.arrayBuffer(),
        );
      const p = await worstHealthzDuring(aq.api, send('PUT', '/backends/big', put));
      const d = await worstHealthzDuring(aq.api, send('POST', '/diff', diff));
      rows.push(
        `  ${kb} KB (${list.length} members): PUT ${fmt(p.took)}, worst /healthz ${fmt(p.worst)}; /diff (${(diff.length / 1024).toFixed(0)} KB) ${fmt(d.took)}, worst /healthz ${fmt(d.worst)}`,
      );
    }
    out(rows.join('\n'));
  } finally {
    await aq.stop();
  }
}

out(`# request cost bench on ${machine()}`);
for (let i = 1; i <= runs; i++) await oneRun(i);
