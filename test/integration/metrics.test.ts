// Prometheus as operators scrape it: Aqueduct's own /metrics passes
// `promtool check metrics` and says what runs and what it serves; HAProxy's
// built-in exporter (--haproxyMetricsBind) counts real requests.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { PACKAGE_VERSION } from '../../src/package-paths.js';
import { isApply, type RunningAqueduct } from '../helpers/aqueduct.js';
import { startServingMyapp } from '../helpers/edge.js';
import { apiClient } from '../helpers/api.js';
import { ROOT } from '../helpers/cli.js';
import { freePort, HAPROXY_BIN } from '../helpers/haproxy.js';
import { parsePrometheus, sample, type MetricFamily } from '../helpers/prometheus.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

/** promtool with these arguments (and `input` on stdin): its exit code and what it printed. */
async function promtool(args: string[], input = ''): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.env['PROMTOOL_BIN'] ?? 'promtool', args, { stdio: 'pipe', cwd: ROOT });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject); // no promtool: scripts/setup.sh installs Debian's prometheus package
    child.once('exit', resolve);
  });
  child.stdin.end(input);
  return { code: await code, output };
}

const run = promisify(execFile);

const labelsOf = (families: MetricFamily[], name: string) =>
  families.find((f) => f.name === name)?.metrics[0]?.labels ?? {};

describe('Prometheus metrics', () => {
  let s: Scenario;
  let aq: RunningAqueduct;
  let exporter: string;
  before(async () => {
    s = await scenario();
    exporter = `127.0.0.1:${await freePort()}`;
    aq = await startServingMyapp(s, { args: ['--haproxyMetricsBind', exporter] });
    await aq.quiet(300);
  });
  after(async () => {
    await aq.stop();
    await s.close();
  });

  it("Aqueduct's metrics pass promtool and say what runs and what HAProxy serves", async () => {
    const text = (await apiClient(aq.api)('GET', '/metrics')).text;
    const lint = await promtool(['check', 'metrics'], text);
    assert.equal(lint.code, 0, lint.output);
    const families = parsePrometheus(text);
    const build = labelsOf(families, 'aqueduct_build_info');
    assert.equal(build['version'], PACKAGE_VERSION);
    assert.match(build['haproxy_version'] ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(build['node_version'], process.version);
    const vv = (await run(HAPROXY_BIN, ['-vv'])).stdout;
    const haproxy = labelsOf(families, 'aqueduct_haproxy_info');
    assert.equal(haproxy['version'], /version (\S+)/.exec(vv)?.[1], 'the version of the HAProxy that runs');
    assert.equal(haproxy['build_options'], /OPTIONS = (.*)/.exec(vv)?.[1]?.trim());
    const status = (await apiClient(aq.api)('GET', '/status')).body as { haproxy: Record<string, unknown> };
    assert.equal(status.haproxy['version'], haproxy['version'], '/status names it too');
    assert.equal(status.haproxy['buildOptions'], haproxy['build_options']);
    const served = await readFile(aq.cfgPath, 'utf8');
    const hash = createHash('sha256').update(served).digest('hex').slice(0, 12);
    assert.equal(sample(families, 'aqueduct_config_info', { hash }), 1, `config_info names ${hash}`);
    const generation = Number(/\d+/.exec(String(aq.logs.filter(isApply('reload')).at(-1)?.['generation']))?.[0]);
    assert.equal(sample(families, 'aqueduct_applied_generation'), generation);
    assert.equal(sample(families, 'aqueduct_last_apply_success'), 1);
    assert.ok(sample(families, 'process_cpu_seconds_total') !== undefined, 'default metrics, unprefixed');
    assert.equal(sample(families, 'aqueduct_process_cpu_seconds_total'), undefined);
  });

  it("HAProxy's own exporter counts the requests it served", async () => {
    for (let i = 0; i < 3; i++) assert.equal(await serverOf(s.port), 'live-1');
    const requests = async () => {
      const text = await (await fetch(`http://${exporter}/metrics`)).text();
      return sample(parsePrometheus(text), 'haproxy_frontend_http_requests_total', { proxy: 'myapp' }) ?? 0;
    };
    assert.ok((await eventually(requests, (n) => n >= 3)) >= 3);
    assert.equal((await fetch(`http://${exporter}/other`)).status, 404);
  });

  it('the alert rules pass promtool, and they and the Grafana dashboard query only metrics that exist', async () => {
    const check = await promtool(['check', 'rules', 'deploy/prometheus/aqueduct-alerts.yaml']);
    assert.equal(check.code, 0, check.output);
    const unit = await promtool(['test', 'rules', 'deploy/prometheus/aqueduct-alerts.test.yaml']);
    assert.equal(unit.code, 0, unit.output);
    const scraped = new Set(
      [
        ...parsePrometheus((await apiClient(aq.api)('GET', '/metrics')).text),
        ...parsePrometheus(await (await fetch(`http://${exporter}/metrics`)).text()),
      ].map((f) => f.name),
    );
    const queried = [
      await readFile(path.join(ROOT, 'deploy/prometheus/aqueduct-alerts.yaml'), 'utf8'),
      await readFile(path.join(ROOT, 'deploy/grafana/aqueduct-dashboard.json'), 'utf8'),
    ].flatMap((text) => [...text.matchAll(/\b((?:aqueduct|haproxy|process|nodejs)_[a-z_]+)\b(?=[{[(\s)])/g)]);
    const names = new Set(queried.map((m) => (m[1] ?? '').replace(/_bucket$/, '')));
    assert.ok(names.size > 15, `found ${names.size} metric names in the rules and dashboard`);
    for (const name of names) assert.ok(scraped.has(name), `${name} is queried but not exported`);
  });
});
