// The dashboard in a real headless Chromium, against a real Aqueduct, a real
// HAProxy and the embedded registry: what it lists, how fast a member going
// DOWN shows without a page reload, a version switch made in the page and
// served by HAProxy, its diff in the Applies view, tokens, and --readOnly.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { sendCommand } from '../../src/haproxy/socket-client.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startRegistryScenario } from '../helpers/edge.js';
import { apiClient } from '../helpers/api.js';
import { freePort } from '../helpers/haproxy.js';
import type { EmbeddedRegistry } from '../helpers/registry.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';
import { makeCert } from '../helpers/tls.js';
import { tempDir } from '../helpers/fixtures.js';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const STATS_MS = 500;

describe('dashboard', () => {
  let s: Scenario;
  let registry: EmbeddedRegistry;
  let aq: RunningAqueduct;
  let browser: Browser;
  let page: Page;
  const port = (name: string) => s.echoes.get(name)?.port as number;

  before(async () => {
    ({ s, registry, aq } = await startRegistryScenario(STATS_MS));
    browser = await launchBrowser();
  });
  // Every test starts on a page of its own, with live on version 1.0.0 and its member UP.
  beforeEach(async () => {
    const back = await apiClient(aq.api)('POST', '/backends/live?wait=applied', { version: '1.0.0' });
    assert.equal(back.status, 200, back.text);
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('dialog', (d) => void d.accept());
  });
  afterEach(async () => {
    await page.close();
  });
  /** The backend view of live, with live-1's row UP. */
  const openLive = async () => {
    await page.goto(`${aq.api}/#/backends/live`);
    const row = page.getByRole('row', { name: new RegExp(`live_127\\.0\\.0\\.1:${port('live-1')}`) });
    await row.getByText('UP').waitFor({ timeout: 10_000 });
    return row;
  };
  /** The id of the newest runtime apply that succeeded, as the API lists it. */
  /**
   * The switch's runtime apply. Its generation's config is there at once,
   * though its file is written later by the background install: the page
   * reads it when the diff is asked for.
   */
  const switchApplyId = async (): Promise<number> => {
    const res = await apiClient(aq.api)('GET', '/applies?limit=50');
    const list = res.body as { id: number; plan: string; result: string; generation?: number }[];
    const found = list.find((a) => a.plan === 'runtime' && a.result === 'ok');
    assert.ok(found?.generation !== undefined, res.text);
    const config = await apiClient(aq.api)('GET', `/haproxy/generations/${found.generation}`);
    assert.equal(config.status, 200, config.text);
    assert.match(config.text, new RegExp(`server live_127\\.0\\.0\\.1:${port('staged-1')} `));
    return found.id;
  };
  after(async () => {
    await browser.close();
    await aq.stop();
    await registry.stop();
    await s.close();
  });

  it('lists the frontends, backends and members with their states', async () => {
    await page.goto(`${aq.api}/`);
    await page.getByRole('heading', { name: 'Frontends' }).waitFor();
    await page.getByText(`http on 127.0.0.1:${s.port}`).waitFor();
    await page.getByRole('link', { name: 'live' }).waitFor();
    await screenshot(page, 'overview');
    await page.getByRole('link', { name: 'live' }).click();
    const row = page.getByRole('row', { name: new RegExp(`live_127\\.0\\.0\\.1:${port('live-1')}`) });
    await row.getByText('UP').waitFor({ timeout: 10_000 });
    await screenshot(page, 'backend');
  });

  it('shows a member going DOWN within two stats intervals, without reloading the page', async () => {
    const server = `live/live_127.0.0.1:${port('live-1')}`;
    const row = await openLive();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await sendCommand(aq.statsSocket, `set server ${server} health down`);
    const t0 = Date.now();
    await row.getByText('DOWN').waitFor({ timeout: 2 * STATS_MS + 1000 });
    assert.ok(Date.now() - t0 <= 2 * STATS_MS + 1000, `${Date.now() - t0} ms`);
    assert.deepEqual(navigations, [], 'no page reload');
    await sendCommand(aq.statsSocket, `set server ${server} health up`);
    await row.getByText('UP').waitFor({ timeout: 5000 });
  });

  it('switches the version from the page, HAProxy serves it, and Applies shows the change with its diff', async () => {
    await openLive();
    await page.getByLabel('Version').fill('1.1.0');
    await page.getByRole('button', { name: 'Switch version' }).click();
    await page.getByText('Switch version: done').waitFor();
    await eventually(
      () => serverOf(s.port),
      (x) => x === 'staged-1',
      10_000,
    );
    // The switch's own apply, by id: a later apply (a look, a drain's end)
    // would otherwise become "the first" between the click and the wait.
    const switched = await switchApplyId();
    await page.getByRole('link', { name: 'Applies' }).click();
    const entry = page
      .locator('li.apply')
      .filter({ has: page.locator('strong', { hasText: new RegExp(`^#${switched} runtime: ok$`) }) });
    await entry.waitFor();
    await entry.getByRole('button', { name: /Show the config diff/ }).click();
    await entry.locator('pre.diff').waitFor();
    await entry
      .locator('pre.diff')
      .getByText(`server live_127.0.0.1:${port('staged-1')}`)
      .first()
      .waitFor();
    await screenshot(page, 'applies');
    await page.getByRole('link', { name: /^Problems/ }).click();
    await page.getByRole('heading', { name: 'Registry' }).waitFor();
    await page.getByText(/master pid \d+ · worker \d+ · \d+ reloads · 0 old workers/).waitFor();
    await screenshot(page, 'problems');
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('ol.activity li').first().waitFor();
    await screenshot(page, 'activity');
  });

  it('lists certificates with their status, expiry and frontends, and says what serves for a broken one', async () => {
    const api = apiClient(aq.api);
    const good = await makeCert(['shop.test'], -1, 30);
    const up = await api('PUT', '/certificates/shop', { cert: good.cert, key: good.key });
    assert.equal(up.status, 200, up.text);
    const dir = await tempDir('aqueduct-ui-certs-');
    await writeFile(path.join(dir, 'broken.crt'), 'not a certificate');
    await writeFile(path.join(dir, 'broken.key'), good.key);
    const broken = { certFile: path.join(dir, 'broken.crt'), keyFile: path.join(dir, 'broken.key') };
    assert.equal((await api('PUT', '/certificates/broken', broken)).status, 200);
    const tls = { bind: `127.0.0.1:${await freePort()}`, backend: 'live', tls: { certificates: ['shop', 'broken'] } };
    const f = await api('PUT', '/frontends/shop?wait=applied', tls);
    assert.equal(f.status, 200, f.text);
    await page.goto(`${aq.api}/#/certificates`);
    const shop = page.locator('tr[data-certificate="shop"]');
    await shop.getByText('served').waitFor({ timeout: 10_000 });
    assert.match(await shop.innerText(), /in 2[89] days/);
    assert.match(await shop.innerText(), /shop\.test/);
    const row = page.locator('tr[data-certificate="broken"]');
    assert.match(await row.innerText(), /invalid certificate/);
    assert.match(await row.innerText(), /a self-signed placeholder serves/);
    await screenshot(page, 'dashboard-certificates');
    for (const object of ['/frontends/shop', '/certificates/shop', '/certificates/broken'])
      assert.equal((await api('DELETE', object)).status, 200, object);
    const stored = await readdir(path.join(aq.stateDir, 'certificates'));
    assert.deepEqual(stored, [], 'the uploaded pair went with its certificate');
  });

  it('shows a manifest typo on the Problems view as the API words it, and asks for no favicon', async () => {
    const missing: string[] = [];
    page.on('response', (r) => (r.status() === 404 ? missing.push(r.url()) : undefined));
    const file = path.join(aq.manifests, 'typo.yaml');
    await writeFile(
      file,
      'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: { name: typo }\nspec: { type: static, memebers: [] }\n',
    );
    try {
      const api = apiClient(aq.api);
      const issue = await eventually(
        async () => ((await api('GET', '/status')).body as { issues: string[] }).issues.find((i) => i.includes('typo')),
        (i) => i !== undefined,
      );
      await page.goto(`${aq.api}/#/problems`);
      const item = page.locator('ul.issues li', { hasText: 'memebers' });
      await item.waitFor({ timeout: 10_000 });
      const text = await item.innerText();
      assert.equal(text, issue, 'the line the API gives, as it gives it');
      assert.match(text, /typo\.yaml:\d+/);
      assert.doesNotMatch(await page.locator('ul.issues').innerText(), /^\s*\/:/m);
      await screenshot(page, 'dashboard-problems');
      assert.deepEqual(missing, [], 'no request of the page answered 404');
    } finally {
      await rm(file, { force: true });
    }
  });

  it('says on the backend page why a switch to a version nobody registered is held', async () => {
    const held = await apiClient(aq.api)('POST', '/backends/live', { version: '9.9.9' });
    assert.equal(held.status, 200, held.text);
    await eventually(
      async () => JSON.stringify((await apiClient(aq.api)('GET', '/backends/live')).body),
      (b) => b.includes('no instances of myapp@9.9.9'),
    );
    await page.goto(`${aq.api}/#/backends/live`);
    const note = page.getByRole('status').filter({ hasText: 'held: no instances of myapp@9.9.9' });
    await note.waitFor({ timeout: 10_000 });
    assert.match((await note.textContent()) ?? '', /its current 1 server\(s\) keep serving/);
    assert.equal(await serverOf(s.port), 'live-1');
  });
});

describe('dashboard access', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
  });

  it('asks for a token, says when one is refused, and the stream refuses a client without one', async () => {
    const aq = await startAqueductProcess({ args: ['--apiReadToken', 'reader', '--apiToken', 'writer'] });
    try {
      await apiUp(aq);
      const page = await browser.newPage();
      await page.goto(`${aq.api}/`);
      await page.getByText('needs an API token').waitFor();
      await page.getByLabel('API token').fill('wrong');
      await page.getByRole('button', { name: 'Use this token' }).click();
      await page.getByText('That token was refused (401)').waitFor();
      await page.getByLabel('API token').fill('reader');
      await page.getByRole('button', { name: 'Use this token' }).click();
      await page.getByRole('heading', { name: 'Frontends' }).waitFor();
      await page.locator('html[data-stream="open"]').waitFor(); // the stream took the token (as a subprotocol)
      const refused = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${aq.api.replace('http', 'ws')}/stream`);
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('open', () => resolve('open'));
      });
      assert.equal(refused, '401');
    } finally {
      await aq.stop();
    }
  });

  it('offers no action with --readOnly, and says why', async () => {
    const s = await scenario();
    const aq = await startAqueductProcess({ args: ['--readOnly'] });
    try {
      await apiUp(aq);
      await s.write(aq.manifests, 'app.yaml', s.frontend(), {
        apiVersion: 'aqueduct/v1',
        kind: 'Backend',
        metadata: { name: 'live' },
        spec: { type: 'dynamic', name: 'myapp', version: '1.0.0' },
      });
      const page = await browser.newPage();
      await page.goto(`${aq.api}/#/backends/live`);
      await page.getByText('runs with --readOnly').waitFor({ timeout: 15_000 });
      assert.equal(await page.getByRole('button').count(), 0);
      await page.getByText('read-only').first().waitFor();
    } finally {
      await aq.stop();
      await s.close();
    }
  });
});
