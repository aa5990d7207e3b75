// The dashboard at scale, in Debian's Chromium with the browser's own clock:
// 1,000 backends of 10 members served by a real HAProxy. Measured: first
// render (navigation start → the first page of backends on screen with
// their states), the longest main-thread task while 1% of the servers flap
// every 2 s (the page must not freeze), and a search filter's time to paint.
//   npm run build && npx tsx bench/dashboard.bench.ts [runs]
import { launchBrowser } from '../test/helpers/browser.js';
import { isApply, startAqueductProcess } from '../test/helpers/aqueduct.js';
import { freePort } from '../test/helpers/haproxy.js';
import { sendCommand } from '../src/haproxy/socket-client.js';
import { fmt, machine, manifestSet, percentile, toYaml, writeAtomic } from './lib.js';

const RUNS = Number(process.argv[2] ?? 3);
const out = (line: string) => process.stdout.write(`${line}\n`);

out(`# dashboard at 1,000 backends × 10 members (${machine()}, ${RUNS} runs, Chromium headless)`);
const port = await freePort();
const aq = await startAqueductProcess({ args: ['--statsInterval', '2000', '--resyncInterval', '0'] });
const browser = await launchBrowser();
try {
  const docs = manifestSet({ backends: 1000, serversPerBackend: 10, frontendPort: port });
  await Promise.all(
    docs.map((d, i) => writeAtomic(aq.manifests, `${i === 0 ? 'frontend' : `backend-${i - 1}`}.yaml`, toYaml([d]))),
  );
  await aq.waitFor((l) => isApply('reload')(l) && JSON.stringify(l['reasons']).includes('bench'), 120_000, 0);
  const firsts: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${aq.api}/`);
    // The first page of backends, each with HAProxy's state (stats arrived), measured by the page's own clock.
    // Page code as strings: this file is type-checked for Node, without the DOM's types.
    await page.waitForFunction(
      "document.querySelectorAll('table.backends tbody tr .badge.up, table.backends tbody tr .badge.down').length >= 50",
      undefined,
      { timeout: 60_000, polling: 'raf' },
    );
    const first = Number(await page.evaluate('performance.now()'));
    firsts.push(first);
    // Long tasks while 100 servers flap (maint ↔ ready) every 2 s for 10 s.
    await page.evaluate(`window.longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration);
      }).observe({ type: 'longtask', buffered: false });`);
    const servers = Array.from(
      { length: 100 },
      (_, i) => `b${i * 10}/b${i * 10}_127.0.${1 + ((i * 10) % 250)}.${1 + Math.floor((i * 10) / 250)}:20000`,
    );
    for (let k = 0; k < 5; k++) {
      const state = k % 2 === 0 ? 'maint' : 'ready';
      await sendCommand(aq.statsSocket, servers.map((s) => `set server ${s} state ${state}`).join(';'));
      await new Promise((r) => setTimeout(r, 2000));
    }
    const longest = Number(await page.evaluate('window.longest'));
    const t0 = Number(await page.evaluate('performance.now()'));
    await page.getByRole('searchbox').fill('b999');
    await page.waitForFunction("document.querySelectorAll('table.backends tbody tr').length === 1", undefined, {
      polling: 'raf',
    });
    const filtered = Number(await page.evaluate('performance.now()')) - t0;
    out(`run ${run}: first render ${fmt(first)}; longest task while 1% flaps ${fmt(longest)}; filter ${fmt(filtered)}`);
    await page.close();
  }
  out(`median first render ${fmt(percentile(firsts, 50))} (target < 1000 ms)`);
} finally {
  await browser.close();
  await aq.stop();
}
