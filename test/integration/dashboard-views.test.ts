// Every view of the dashboard in a real Chromium against a running Aqueduct,
// in the states a newcomer meets: the Overview before the stream's first
// snapshot and after it, a canary, a rollout that rolls itself back and one
// that completes, a member HAProxy cannot resolve, an object HAProxy refuses,
// a service nobody registered, quiet looks in Applies, and the activity feed.
// What is asserted is what a person reads: figures equal to the API's, no
// '?', '/:', 'undefined' or raw JSON.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { obj, type ApiCall } from '../helpers/api.js';
import type { RunningAqueduct } from '../helpers/aqueduct.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { startRegistryScenario } from '../helpers/edge.js';
import { staticBackend } from '../helpers/fixtures.js';
import { startLoad } from '../helpers/load.js';
import { registerIn, type EmbeddedRegistry } from '../helpers/registry.js';
import type { Scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

/** Text no view may show: a missing field, a placeholder for one, an object printed raw. */
async function assertReadable(page: Page, what: string): Promise<string> {
  const text = await page.locator('main').innerText();
  for (const bad of [/\?/, /^\s*\/:/m, /undefined|NaN|\[object Object\]/, /\{"/])
    assert.doesNotMatch(text, bad, `${what}: ${text}`);
  return text;
}

describe('dashboard views against the real API', () => {
  let s: Scenario;
  let registry: EmbeddedRegistry;
  let aq: RunningAqueduct;
  let api: ApiCall;
  let browser: Browser;
  let page: Page;
  const port = (name: string) => s.echoes.get(name)?.port as number;
  const rolloutOf = async () =>
    obj(await api('GET', '/backends/live/rollout'))['position'] as { state?: string } | null;

  before(async () => {
    ({ s, registry, aq, api } = await startRegistryScenario(500));
    await registerIn(registry, 'myapp', '1.2.0', port('extra-1'));
    s.echoes.get('extra-1')?.behave({ failEvery: 3 });
    browser = await launchBrowser();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('dialog', (d) => void d.accept());
  });
  afterEach(async () => {
    await page.close();
  });
  after(async () => {
    await browser.close();
    await aq.stop();
    await registry.stop();
    await s.close();
  });

  it("Overview: the API's member counts before the first snapshot, HAProxy's after it", async () => {
    const listed = (obj(await api('GET', '/backends/live'))['members'] as unknown[]).length;
    // A stream that never delivers: the page has only what the REST API said.
    await page.routeWebSocket(/\/stream$/, () => undefined);
    await page.goto(`${aq.api}/`);
    const row = page.getByRole('row', { name: /^live\b/ });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`– of ${listed}\\s+loading`));
    await assertReadable(page, 'overview before stats');
    const live = await browser.newPage();
    try {
      await live.goto(`${aq.api}/`);
      const served = live.getByRole('row', { name: /^live\b/ });
      await served.getByText('UP').waitFor({ timeout: 10_000 });
      assert.match(await served.innerText(), new RegExp(`\\b${listed}/${listed}\\b`));
      await eventually(
        async () => (await served.innerText()).split('\t').at(-1)?.trim(),
        (x) => x === '0.0',
        5000,
      );
    } finally {
      await live.close();
    }
  });

  it('Backend: a canary shows each version, each member with its version, and a chart that names its series', async () => {
    const split = {
      versions: [
        { version: '1.0.0', weight: 90 },
        { version: '1.1.0', weight: 10 },
      ],
    };
    assert.equal((await api('POST', '/backends/live?wait=applied', split)).status, 200);
    const load = startLoad(s.port, { keepAlive: 2, fresh: 0 });
    try {
      await page.goto(`${aq.api}/#/backends/live`);
      await page.getByText('Versions: 1.0.0 (90), 1.1.0 (10)').waitFor({ timeout: 10_000 });
      const staged = page.getByRole('row', { name: new RegExp(`live_127\\.0\\.0\\.1:${port('staged-1')}`) });
      await staged.getByText('UP').waitFor({ timeout: 10_000 });
      assert.match(await staged.innerText(), /\b1\.1\.0\b/);
      await page.locator('.chart .u-legend').waitFor({ timeout: 10_000 });
      const legend = await page.locator('.chart .u-legend').innerText();
      assert.match(legend, /requests\/s/);
      assert.doesNotMatch(legend, /--|Time/, 'no live values without a cursor');
      await assertReadable(page, 'canary');
      await screenshot(page, 'dashboard-canary');
    } finally {
      await load.stop();
      assert.equal((await api('POST', '/backends/live?wait=applied', { version: '1.0.0' })).status, 200);
    }
  });

  it('Backend and Activity: a rollout that rolls itself back names both versions and reads as sentences', async () => {
    const load = startLoad(s.port, { keepAlive: 4, fresh: 0 });
    try {
      const rollout = { to: '1.2.0', steps: [20, 100], stepSeconds: 5, maxErrorRate: 0.05, minRequests: 15 };
      assert.equal((await api('POST', '/backends/live/rollout', rollout)).status, 200);
      await eventually(rolloutOf, (p) => p?.state === 'aborted', 20_000);
    } finally {
      await load.stop();
    }
    await page.goto(`${aq.api}/#/backends/live`);
    await page.getByText(/Rollout 1\.0\.0 → 1\.2\.0: aborted at step 1 \(.*failed/).waitFor({ timeout: 10_000 });
    await assertReadable(page, 'aborted rollout');
    await page.getByRole('link', { name: 'Activity' }).click();
    const aborted = page.locator('ol.activity li[data-event="rollout-aborted"]').first();
    await aborted.waitFor({ timeout: 10_000 });
    assert.match(await aborted.locator('.sentence').innerText(), /^backend live: rollout 1\.0\.0 → 1\.2\.0/);
    const changed = page.locator('ol.activity li[data-event="config-changed"]').first();
    assert.match(await changed.locator('.sentence').innerText(), /^apply \d+: (runtime|reload) ok, .+, \d+ ms$/);
    await assertReadable(page, 'activity');
    await aborted.getByText('data').click();
    assert.match(await aborted.locator('pre').innerText(), /"event": "rollout-aborted"/, 'the JSON is one click away');
    await screenshot(page, 'dashboard-activity');
  });

  it('Backend: a completed rollout names both versions', async () => {
    const load = startLoad(s.port, { keepAlive: 4, fresh: 0 });
    try {
      const rollout = { to: '1.1.0', steps: [50, 100], stepSeconds: 1, minRequests: 10 };
      assert.equal((await api('POST', '/backends/live/rollout', rollout)).status, 200);
      await eventually(rolloutOf, (p) => p?.state === 'complete', 20_000);
    } finally {
      await load.stop();
    }
    await page.goto(`${aq.api}/#/backends/live`);
    await page.getByText('Rollout 1.0.0 → 1.1.0: complete at step 2').waitFor({ timeout: 10_000 });
    await assertReadable(page, 'completed rollout');
    assert.equal((await api('POST', '/backends/live?wait=applied', { version: '1.0.0' })).status, 200);
  });

  it('Backend: a member HAProxy cannot resolve says why it has no check', async () => {
    const members = [
      { host: 'no-such-host.invalid', port: 80 },
      { host: '127.0.0.1', port: port('live-2') },
    ];
    assert.equal((await api('PUT', '/backends/pool', { type: 'static', members })).status, 200);
    await eventually(
      async () => (obj(await api('GET', '/backends/pool'))['status'] as { unresolved?: string[] }).unresolved,
      (u) => u !== undefined && u.length === 1,
      15_000,
    );
    await page.goto(`${aq.api}/#/backends/pool`);
    const row = page.getByRole('row', { name: /pool_no-such-host\.invalid:80/ });
    await row.getByText('not checked: its host name does not resolve').waitFor({ timeout: 10_000 });
    await row.getByText('MAINT').waitFor();
    await assertReadable(page, 'unresolved member');
    assert.equal((await api('DELETE', '/backends/pool')).status, 200);
  });

  it('Backend and Problems: a service nobody registered, and an object HAProxy refuses', async () => {
    assert.equal(
      (await api('PUT', '/backends/nobody', { type: 'dynamic', name: 'nobody', version: '1.0.0' })).status,
      200,
    );
    await s.write(aq.manifests, 'bad.yaml', staticBackend('bad', [port('live-2')], { natives: ['frobnicate'] }));
    try {
      await eventually(
        async () => JSON.stringify(obj(await api('GET', '/status'))['objects']),
        (o) => /backend\/bad.*"state":"invalid"/.test(o),
        15_000,
      );
      await page.goto(`${aq.api}/#/backends/nobody`);
      await page.getByText('No servers: no instance of nobody@1.0.0 is registered in the registry.').waitFor();
      await assertReadable(page, 'empty backend');
      await page.goto(`${aq.api}/#/problems`);
      const bad = page.locator('li', { hasText: /^backend\/bad: / });
      await bad.waitFor({ timeout: 10_000 });
      assert.match(await bad.innerText(), /invalid, serving none version — .*frobnicate/);
      assert.match(await page.getByRole('link', { name: /^Problems/ }).innerText(), /Problems \([1-9]\d*\)/);
      await page.getByText('connected', { exact: true }).waitFor();
      await assertReadable(page, 'problems');
    } finally {
      await rm(path.join(aq.manifests, 'bad.yaml'), { force: true });
      await api('DELETE', '/backends/nobody');
    }
  });

  it('Applies: looks that changed nothing are folded into one line that opens on a click', async () => {
    const same = obj(await api('GET', '/backends/live'));
    const { id: _id, _type, key: _key, status: _status, members: _members, ...spec } = same;
    for (let i = 0; i < 2; i++) assert.equal((await api('PUT', '/backends/live?wait=applied', spec)).status, 200);
    await page.goto(`${aq.api}/#/applies`);
    const folded = page.locator('li.apply.noop summary').first();
    await folded.waitFor({ timeout: 10_000 });
    assert.match(await folded.innerText(), /^\d+ looks? that changed nothing \(noop\)$/);
    const shown = await page.locator('ol.timeline > li.apply:not(.noop) strong').allInnerTexts();
    assert.ok(shown.length > 0 && shown.every((t) => !/noop/.test(t)), shown.join(', '));
    await folded.click();
    await page.locator('li.apply.noop li.apply strong', { hasText: 'noop: ok' }).first().waitFor();
    await assertReadable(page, 'applies');
  });
});
