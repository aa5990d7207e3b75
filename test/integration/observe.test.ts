// Stats, the WebSocket stream, Prometheus metrics and the apply ledger,
// against the real loop and a real HAProxy: a stopped server shows as DOWN
// within two poll intervals, deltas carry only what changed, the metrics
// (read by a real Prometheus text parser) match the ledger, and the ledger
// holds noop, runtime, reload and rejected applies.
import assert from 'node:assert/strict';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { stringify } from 'yaml';
import { sendCommand } from '../../src/haproxy/socket-client.js';
import { statsFromCsv } from '../../src/core/haproxy-output/stats.js';
import { apiUp, isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { apiClient, type ApiCall } from '../helpers/api.js';
import { serveMyapp } from '../helpers/edge.js';
import type { JsonObject } from '../helpers/fixtures.js';
import { parsePrometheus, sample } from '../helpers/prometheus.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually } from '../helpers/wait.js';

const POLL_MS = 300;

interface StreamClient {
  messages: JsonObject[];
  next(pred: (m: JsonObject) => boolean, timeoutMs?: number): Promise<JsonObject & { receivedAt: number }>;
  close(): void;
}

async function connectStream(url: string): Promise<StreamClient> {
  const ws = new WebSocket(url);
  const messages: (JsonObject & { receivedAt: number })[] = [];
  const waiters: { pred: (m: JsonObject) => boolean; resolve: (m: JsonObject & { receivedAt: number }) => void }[] = [];
  ws.on('message', (data: Buffer) => {
    const m = { ...(JSON.parse(data.toString()) as JsonObject), receivedAt: Date.now() };
    messages.push(m);
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    messages,
    next(pred, timeoutMs = 10_000) {
      const seen = messages.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no matching stream message in ${timeoutMs} ms: ${JSON.stringify(messages.slice(-3))}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () => ws.close(),
  };
}

describe('stats stream, metrics and the apply ledger', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let api: ApiCall;
  const member = (name: string) => ({ host: '127.0.0.1', port: s.echoes.get(name)?.port as number });
  const serverStatId = (name: string) => `stat/backend/live/live_127.0.0.1:${s.echoes.get(name)?.port}`;

  before(async () => {
    s = await scenario();
    aq = await startAqueductProcess({ args: ['--minReloadInterval', '100', '--statsInterval', String(POLL_MS)] });
    api = apiClient(aq.api);
    await apiUp(aq);
    await serveMyapp(api, s, {
      type: 'static',
      health: { uri: '/', interval: 200 },
      members: [member('live-1'), member('live-2')],
    });
  });

  after(async () => {
    assert.equal(await aq.stop(), 0);
    await s.close();
  });

  it('serves a stats snapshot with the original ids', async () => {
    const stats = (await eventually(
      async () => (await api('GET', '/stats')).body as JsonObject[],
      (list) => list.some((x) => x['id'] === serverStatId('live-1') && String(x['status']).startsWith('UP')),
    )) as JsonObject[];
    const ids = stats.map((x) => x['id']);
    for (const id of ['stat/frontend/myapp', 'stat/backend/live', serverStatId('live-1'), serverStatId('live-2')])
      assert.ok(ids.includes(id), id);
    const server = stats.find((x) => x['id'] === serverStatId('live-1')) as JsonObject;
    assert.equal(server['type'], 'backendMember');
    assert.equal(server['backend'], 'live');
    assert.equal(typeof (server['connections'] as JsonObject)['current'], 'number');
  });

  it('streams a snapshot, then deltas; a stopped server is DOWN within two poll intervals', async () => {
    const stream = await connectStream(`${aq.api.replace('http', 'ws')}/stream`);
    try {
      const snapshot = await stream.next((m) => m['type'] === 'snapshot');
      const total = (snapshot['stats'] as JsonObject[]).length;
      await s.echoes.get('live-2')?.close();
      // When HAProxy itself says DOWN, read straight from its socket.
      const downAt = await eventually(
        async () => {
          const st = statsFromCsv(await sendCommand(aq.statsSocket, 'show stat')).find(
            (x) => x.id === serverStatId('live-2'),
          );
          return st?.status.startsWith('DOWN') === true ? Date.now() : 0;
        },
        (t) => t > 0,
        15_000,
      );
      const delta = await stream.next(
        (m) =>
          m['type'] === 'stats' &&
          (m['changed'] as JsonObject[]).some(
            (x) => x['id'] === serverStatId('live-2') && String(x['status']).startsWith('DOWN'),
          ),
      );
      assert.ok(
        delta.receivedAt - downAt <= 2 * POLL_MS + 100,
        `DOWN reached the stream ${delta.receivedAt - downAt} ms after HAProxy`,
      );
      assert.ok((delta['changed'] as JsonObject[]).length < total, 'a delta carries only what changed');
      assert.equal(stream.messages[0]?.['type'], 'snapshot', 'the snapshot comes first');
    } finally {
      stream.close();
    }
  });

  it('reports activity in the stream: config changed and reloaded', async () => {
    const stream = await connectStream(`${aq.api.replace('http', 'ws')}/stream`);
    try {
      await stream.next((m) => m['type'] === 'snapshot');
      const r = await api('PUT', '/backends/extra?wait=applied', { type: 'static', members: [member('extra-1')] });
      assert.equal(r.status, 200, r.text);
      const reloaded = await stream.next((m) => m['type'] === 'activity' && m['event'] === 'reloaded');
      assert.equal(typeof reloaded['apply'], 'number');
      await stream.next((m) => m['type'] === 'activity' && m['event'] === 'config-changed');
    } finally {
      stream.close();
    }
  });

  /** One apply of each kind: a runtime member swap (to `second`), a noop (a comment), a rejected native. */
  async function everyKindOfApply(second: string): Promise<void> {
    let mark = aq.logs.length;
    const live = { type: 'static', health: { uri: '/', interval: 200 }, members: [member('live-1'), member(second)] };
    assert.equal((await api('PUT', '/backends/live?wait=applied', live)).status, 200);
    await aq.waitFor(isApply('runtime'), 10_000, mark);
    // noop: the file changes, the config does not (after a pause: chokidar re-watches a file the API just replaced)
    await aq.quiet(300);
    mark = aq.logs.length;
    await appendFile(path.join(aq.manifests, 'backends/live.yaml'), '# a comment\n');
    await aq.waitFor(isApply('noop'), 10_000, mark);
    // rejected: a native HAProxy refuses, written straight to the directory (the API would refuse it)
    mark = aq.logs.length;
    const bad = { apiVersion: 'aqueduct/v1', kind: 'Backend', metadata: { name: 'bad' } };
    await writeFile(BAD_FILE(), stringify({ ...bad, spec: { type: 'static', natives: ['no-such-keyword'] } }));
    await aq.waitFor(isApply('reload', 'rejected'), 10_000, mark);
  }
  const BAD_FILE = () => path.join(aq.manifests, 'backends/bad.yaml');

  it('keeps noop, runtime, reload and rejected applies in the ledger', async () => {
    await everyKindOfApply('extra-2');
    const ledger = (await api('GET', '/applies?limit=200')).body as JsonObject[];
    const plans = new Set(ledger.map((r) => `${String(r['plan'])}/${String(r['result'])}`));
    for (const p of ['noop/ok', 'runtime/ok', 'reload/ok', 'reload/rejected'])
      assert.ok(plans.has(p), `${p} in ${[...plans].join(' ')}`);
    const rejected = ledger.find((r) => r['result'] === 'rejected') as JsonObject;
    assert.match(String(rejected['error']), /no-such-keyword/);
    assert.ok((ledger[0]?.['id'] as number) > (ledger[1]?.['id'] as number), 'newest first');
    const one = await api('GET', `/applies/${String(rejected['id'])}`);
    assert.deepEqual(one.body, rejected);
    assert.equal((await api('GET', '/applies/999999')).status, 404);
    assert.equal(((await api('GET', '/applies?limit=2')).body as JsonObject[]).length, 2);
    assert.equal((await api('GET', '/applies?limit=0')).status, 400);
    await rm(BAD_FILE(), { force: true });
  });

  it('exposes Prometheus metrics that match the ledger', async () => {
    await everyKindOfApply('extra-1');
    await rm(BAD_FILE(), { force: true });
    await aq.quiet(500);
    const families = parsePrometheus((await api('GET', '/metrics')).text);
    const ledger = (await api('GET', '/applies?limit=200')).body as JsonObject[];
    for (const plan of ['noop', 'runtime', 'reload'])
      for (const result of ['ok', 'failed', 'rejected', 'deferred']) {
        const expected = ledger.filter((r) => r['plan'] === plan && r['result'] === result).length;
        assert.equal(sample(families, 'aqueduct_applies_total', { plan, result }), expected, `${plan}/${result}`);
      }
    const reloadsOk = ledger.filter((r) => r['plan'] === 'reload' && r['result'] === 'ok').length;
    assert.equal(sample(families, 'aqueduct_haproxy_reloads_total', { result: 'ok' }), reloadsOk);
    assert.equal(sample(families, 'aqueduct_haproxy_reloads_total', { result: 'failed' }), 0);
    assert.ok((sample(families, 'aqueduct_reconciles_total', { result: 'ok' }) ?? 0) > 0);
    assert.equal(
      sample(families, 'aqueduct_reconciles_total', { result: 'error' }),
      0,
      'every label value exists at 0',
    );
    assert.ok((sample(families, 'aqueduct_runtime_commands_total', { result: 'ok' }) ?? 0) > 0);
    assert.ok((sample(families, 'aqueduct_validation_failures_total', { source: 'haproxy' }) ?? 0) >= 1);
    assert.ok((sample(families, 'aqueduct_reconcile_duration_seconds') ?? 0) > 0);
    assert.equal(sample(families, 'aqueduct_manifests', { kind: 'Frontend', state: 'applied' }), 1);
    assert.equal(sample(families, 'aqueduct_backend_members', { backend: 'live' }), 2);
    const last = sample(families, 'aqueduct_last_successful_apply_timestamp_seconds') ?? 0;
    assert.ok(Math.abs(last - Date.now() / 1000) < 120);
    assert.equal(sample(families, 'aqueduct_haproxy_old_workers') !== undefined, true);
    assert.ok(
      families.some((f) => f.name === 'process_cpu_seconds_total'),
      'default process metrics',
    );
    const before = sample(families, 'aqueduct_validation_failures_total', { source: 'api' }) ?? 0;
    await api('PUT', '/backends/x', { type: 'nope' });
    const after = parsePrometheus((await api('GET', '/metrics')).text);
    assert.equal(sample(after, 'aqueduct_validation_failures_total', { source: 'api' }), before + 1);
  });
});
