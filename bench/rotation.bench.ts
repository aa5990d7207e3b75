// A certificate renewed → served: a certificate file rewritten in place
// until a fresh TLS handshake gets the new fingerprint, with 1 and with
// 1,000 certificates on one frontend. The floor in the same run is a reload
// of the same config (haproxy -c, then a reload through the master, until a
// handshake succeeds), which is what a renewal would cost without the
// runtime API. Then TLS handshakes per second through HAProxy with no
// renewal, and while one certificate is renewed every 250 ms.
// Usage: npx tsx bench/rotation.bench.ts [runs] [sizes, e.g. 1,1000]
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { reloadViaMaster } from '../src/haproxy/master-socket.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../test/helpers/aqueduct.js';
import { freePort, HAPROXY_BIN, startEchoServer } from '../test/helpers/haproxy.js';
import { handshake, makeCert, writePair, type TestCert } from '../test/helpers/tls.js';
import { fmt, machine, now, percentile } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
const sizes = (process.argv[3] ?? '1,1000').split(',').map(Number);
const ROTATIONS = 10;
const out = (line: string) => process.stdout.write(`${line}\n`);
const run = promisify(execFile);
const stats = (xs: number[]) => `p50 ${fmt(percentile(xs, 50))}, p90 ${fmt(percentile(xs, 90))}`;

interface Site {
  aq: RunningAqueduct;
  port: number;
  certDir: string;
  close(): Promise<void>;
}

/** An Aqueduct serving `n` file certificates (c0.test … c<n-1>.test) on one TLS frontend. */
async function site(n: number): Promise<Site> {
  const echo = await startEchoServer('tls');
  const aq = await startAqueductProcess();
  await apiUp(aq);
  const port = await freePort();
  const certDir = path.join(aq.dir, 'certs');
  await mkdir(certDir, { recursive: true });
  const docs: object[] = [];
  for (let i = 0; i < n; i++) {
    const files = await writePair(certDir, `c${i}`, await makeCert([`c${i}.test`]));
    docs.push({ apiVersion: 'aqueduct/v1', kind: 'Certificate', metadata: { name: `c${i}` }, spec: files });
  }
  const certificates = docs.map((_, i) => `c${i}`);
  docs.push(
    {
      apiVersion: 'aqueduct/v1',
      kind: 'Backend',
      metadata: { name: 'b' },
      spec: { type: 'static', members: [{ host: '127.0.0.1', port: echo.port }] },
    },
    {
      apiVersion: 'aqueduct/v1',
      kind: 'Frontend',
      metadata: { name: 'tls' },
      spec: { bind: `127.0.0.1:${port}`, backend: 'b', tls: { certificates } },
    },
  );
  await writeFile(path.join(aq.manifests, 'site.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  const t0 = now();
  while ((await handshake(port, 'c0.test').catch(() => undefined)) === undefined)
    if (now() - t0 > 120_000) throw new Error('the TLS frontend did not come up');
  return { aq, port, certDir, close: async () => (await aq.stop(), await echo.close()) };
}

/** ms from rewriting c0's files until a fresh handshake for c0.test gets the new fingerprint. */
async function rotate(s: Site, next: TestCert): Promise<number> {
  const t0 = now();
  await writePair(s.certDir, 'c0', next);
  while ((await handshake(s.port, 'c0.test').catch(() => ({ fingerprint: '' }))).fingerprint !== next.fingerprint)
    if (now() - t0 > 30_000) {
      for (const l of s.aq.logs.slice(-8)) out(JSON.stringify(l).slice(0, 400));
      throw new Error('the renewal was not served within 30 s');
    }
  return now() - t0;
}

async function reloadFloor(s: Site): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    await run(HAPROXY_BIN, ['-c', '-q', '-f', s.aq.cfgPath]);
    const r = await reloadViaMaster(s.aq.masterSocket);
    if (!r.ok) throw new Error(r.message);
    while ((await handshake(s.port, 'c0.test').catch(() => undefined)) === undefined);
    times.push(now() - t0);
  }
  return times;
}

/** Fresh handshakes per second for `ms`, four at a time, while `during` runs beside them. */
async function handshakeRate(
  port: number,
  ms: number,
  during?: () => Promise<void>,
): Promise<{ rate: number; failed: number }> {
  let done = 0;
  let failed = 0;
  const end = now() + ms;
  const client = async () => {
    while (now() < end)
      await handshake(port, 'c0.test').then(
        () => done++,
        () => failed++,
      );
  };
  await Promise.all([client(), client(), client(), client(), during?.()]);
  return { rate: (done * 1000) / ms, failed };
}

out(`# certificate renewal → served, and TLS handshakes/s (${machine()}, ${runs} runs)`);
for (const n of sizes)
  for (let r = 1; r <= runs; r++) {
    const s = await site(n);
    try {
      const certs = await Promise.all(Array.from({ length: ROTATIONS + 8 }, () => makeCert(['c0.test'])));
      const served: number[] = [];
      for (let i = 0; i < ROTATIONS; i++) served.push(await rotate(s, certs[i] as TestCert));
      const floor = await reloadFloor(s);
      const quiet = await handshakeRate(s.port, 3000);
      const renewing = await handshakeRate(s.port, 3000, async () => {
        for (let i = ROTATIONS; i < certs.length; i++) {
          await writePair(s.certDir, 'c0', certs[i] as TestCert);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      });
      const ratio = percentile(served, 50) / percentile(floor, 50);
      out(`${n} certificate(s), run ${r}`);
      out(`  renewal → served: ${stats(served)} (${ratio.toFixed(2)}× the floor)`);
      out(`  floor, haproxy -c + reload of the same config: ${stats(floor)}`);
      out(
        `  handshakes/s: ${quiet.rate.toFixed(0)} quiet, ${renewing.rate.toFixed(0)} while renewing every 250 ms (failed: ${quiet.failed} / ${renewing.failed})`,
      );
    } finally {
      await s.close();
    }
  }
