import assert from 'node:assert/strict';
import { cp, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { checkConfigFile, checkConfigText } from '../../src/haproxy/check.js';
import { instanceMark, markSection } from '../../src/core/rendering/instance-mark.js';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir, writeTree } from '../helpers/fixtures.js';
import { HAPROXY_BIN } from '../helpers/haproxy.js';
import { makeCert, writePair } from '../helpers/tls.js';

const EXAMPLES = path.join(ROOT, 'examples', 'manifests');
const EVERY_FIELD = path.join(ROOT, 'test', 'golden', 'every-field');

async function copyOf(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

describe('aqueduct validate', () => {
  it('exits 0 on the bundled examples', async () => {
    const r = await runCli(['validate', EXAMPLES]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '3 objects valid (1 frontend, 2 backends, 0 certificates)\n');
  });

  it('judges certificate files and lets haproxy -c load the TLS frontends', async () => {
    const dir = await copyOf(EXAMPLES);
    const good = await makeCert(['shop.test']);
    await writePair(dir, 'shop', good);
    await writeFile(path.join(dir, 'other.key'), (await makeCert(['x.test'])).key);
    const cert = (name: string, keyFile: string) => ({
      apiVersion: 'aqueduct/v1',
      kind: 'Certificate',
      metadata: { name },
      spec: { certFile: 'shop.crt', keyFile },
    });
    const tls = {
      apiVersion: 'aqueduct/v1',
      kind: 'Frontend',
      metadata: { name: 'shop' },
      spec: { bind: '127.0.0.1:8443', backend: 'live', tls: { certificates: ['shop', 'mismatched'] } },
    };
    const docs = [cert('shop', 'shop.key'), cert('mismatched', 'other.key'), tls];
    await writeFile(path.join(dir, 'tls.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^tls\.yaml:\d+ \(document 2\) Certificate\/mismatched spec\.certFile: key mismatch: /m);
    assert.doesNotMatch(r.stderr, /haproxy -c/, 'HAProxy loads the TLS frontend');
    assert.match(r.stderr, /^1 problem; 6 valid objects \(2 frontends, 2 backends, 2 certificates\)$/m);
  });

  it('exits 1 naming the file and the field of one broken field', async () => {
    const dir = await copyOf(EXAMPLES);
    const file = path.join(dir, 'backends', 'live.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('balance: roundrobin', 'balance: fastest'));
    const r = await runCli(['validate', dir]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^backends\/live\.yaml:7:3 \(document 1\) Backend\/live spec\.balance: must be an HAProxy balance algorithm/m,
    );
    // The frontend routes to the broken backend, so it is reported too.
    assert.match(r.stderr, /Frontend\/myapp spec\.backend: backend 'live' is not defined \(or is invalid\)/);
  });

  it('prints machine-readable results with --json', async () => {
    const dir = await copyOf(EXAMPLES);
    await writeFile(
      path.join(dir, 'extra.yaml'),
      'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: {name: x}\nspec: {type: static, mode: udp}\n',
    );
    const r = await runCli(['validate', '--json', dir]);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      objects: { kind: string; name: string }[];
      issues: { file: string; path: string; code: string }[];
    };
    assert.equal(out.ok, false);
    assert.equal(out.objects.length, 3);
    assert.deepEqual(
      out.issues.map((i) => [i.file, i.path, i.code]),
      [['extra.yaml', 'spec.mode', 'schema']],
    );
  });

  it('exits 2 with a clear message for a missing directory and for bad usage', async () => {
    const missing = await runCli(['validate', '/nonexistent/manifests']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /manifests directory not found: \/nonexistent\/manifests/);
    const usage = await runCli(['frobnicate']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown command 'frobnicate'/);
  });

  it('thalassa-aqueduct --help names its own entry and says it is aqueduct run', async () => {
    const help = await runCli(['--help'], { bin: 'thalassa-aqueduct.js' });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: thalassa-aqueduct \[options\]\n/);
    assert.match(help.stdout, /the same as `aqueduct run`/);
    assert.match(
      help.stdout,
      /--haproxyPidPath <value>\s+HAProxy\s+pid\s+file;\s+giving\s+it\s+selects\s+pidfile\s+mode/,
    );
    assert.match((await runCli(['run', '--help'])).stdout, /^Usage: aqueduct run \[options\]/);
  });
});

/**
 * A golden config (rendered with the tests' socket path only) as `aqueduct
 * run` with its default flags writes it at cfgPath: its socket under the
 * derived state directory, its routing maps there too, run's global
 * defaults, and the instance's mark.
 */
function asRunWrites(golden: string, cfgPath: string): string {
  return (
    golden
      .replace('/tmp/aqueduct-test.sock', '/etc/haproxy/aqueduct-state/haproxy.stats.sock')
      .replaceAll('/tmp/maps/', '/etc/haproxy/haproxy.cfg.maps/')
      .replace('  stats timeout 30s\n', '  stats timeout 30s\n  hard-stop-after 5m\n  mworker-max-reloads 50\n') +
    markSection(instanceMark(cfgPath))
  );
}

describe('aqueduct render', () => {
  it('renders the examples to a config haproxy -c accepts', async () => {
    const r = await runCli(['render', EXAMPLES]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^frontend myapp$/m);
    const check = await checkConfigText(HAPROXY_BIN, r.stdout);
    assert.ok(check.ok, check.output);
  });

  it('writes the routing maps with --writeMaps, so HAProxy starts from the printed config, and says so without it', async () => {
    const dir = await tempDir();
    const cfg = path.join(dir, 'haproxy.cfg');
    const without = await runCli(['render', EXAMPLES, '--haproxyCfgPath', cfg]);
    assert.match(without.stderr, /reads 1 routing map from .*haproxy\.cfg\.maps; --writeMaps writes them there/);
    await assert.rejects(readdir(`${cfg}.maps`), { code: 'ENOENT' });
    const r = await runCli(['render', EXAMPLES, '--haproxyCfgPath', cfg, '--writeMaps']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(await readdir(`${cfg}.maps`), ['myapp.1.map']);
    await writeFile(cfg, r.stdout);
    const check = await checkConfigFile(HAPROXY_BIN, cfg);
    assert.ok(check.ok, check.output);
  });

  it('renders the same bytes with files renamed and moved and rules and members reordered', async () => {
    const original = await runCli([
      'render',
      path.join(EVERY_FIELD, 'manifests'),
      '--members',
      path.join(EVERY_FIELD, 'members.json'),
    ]);
    assert.equal(original.code, 0, original.stderr);
    const dir = await copyOf(path.join(EVERY_FIELD, 'manifests'));
    await rename(path.join(dir, 'frontends', 'all.yaml'), path.join(dir, 'zz-moved.yml'));
    for (const name of await readdir(path.join(dir, 'backends'))) {
      await rename(path.join(dir, 'backends', name), path.join(dir, `renamed-${name}`));
    }
    const fe = path.join(dir, 'zz-moved.yml');
    const docs = parseAllDocuments(await readFile(fe, 'utf8')).map((d) => d.toJS() as { spec: { rules?: unknown[] } });
    for (const d of docs) d.spec.rules?.reverse();
    await writeFile(
      fe,
      docs
        .reverse()
        .map((d) => stringify(d))
        .join('---\n'),
    );
    const live = path.join(dir, 'renamed-live.yaml');
    const liveDoc = parseAllDocuments(await readFile(live, 'utf8'))[0]?.toJS() as { spec: { members: unknown[] } };
    liveDoc.spec.members.reverse();
    await writeFile(live, stringify(liveDoc));
    const again = await runCli(['render', dir, '--members', path.join(EVERY_FIELD, 'members.json')]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, original.stdout);
    const golden = await readFile(path.join(EVERY_FIELD, 'expected.cfg'), 'utf8');
    assert.equal(again.stdout, asRunWrites(golden, '/etc/haproxy/haproxy.cfg'));
  });

  it('uses --haproxySocketPath, --statsBind and a custom --templateFile', async () => {
    const dir = await tempDir();
    const template = path.join(dir, 'custom.mustache');
    await writeFile(
      template,
      'stats {{global.statsSocketPath}}\n{{#stats}}page {{bind}}\n{{/stats}}{{#backends}}backend {{name}} has {{servers.length}} servers\n{{/backends}}',
    );
    const r = await runCli([
      'render',
      EXAMPLES,
      '--templateFile',
      template,
      '--haproxySocketPath',
      '/run/x.sock',
      '--statsBind',
      '127.0.0.1:1988',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `stats /run/x.sock\npage 127.0.0.1:1988\nbackend live has 2 servers\nbackend staged has 2 servers\n${markSection(instanceMark('/etc/haproxy/haproxy.cfg'))}`,
    );
  });

  it('takes options from AQUEDUCT_* environment variables', async () => {
    const r = await runCli(['render', EXAMPLES], { env: { AQUEDUCT_HAPROXY_SOCKET_PATH: '/run/env.sock' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stats socket \/run\/env\.sock /);
  });

  it('refuses an unsafe socket path, a broken template and an invalid members file with exit 2', async () => {
    const dir = await tempDir();
    const unsafe = await runCli(['render', EXAMPLES, '--haproxySocketPath', '/tmp/a b.sock']);
    assert.equal(unsafe.code, 2);
    assert.match(unsafe.stderr, /haproxySocketPath: must be a path without spaces/);
    assert.equal(unsafe.stdout, '');
    const template = path.join(dir, 'bad.mustache');
    await writeFile(template, '{{#backends}}');
    const broken = await runCli(['render', EXAMPLES, '--templateFile', template]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /bad\.mustache template does not parse: Unclosed section "backends"/);
    const members = path.join(dir, 'members.json');
    await writeFile(members, JSON.stringify({ live: [{ host: '10.0.0.1\nlisten x', port: 80 }] }));
    const bad = await runCli(['render', EXAMPLES, '--members', members]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /members\.json live\[0\]\.host: must be a host name/);
  });

  it('applies the natives policy as the running loop does, and lifts it with --allowUnsafeNatives', async () => {
    const dir = await writeTree({
      'x.yaml':
        'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: { name: x }\nspec:\n  type: static\n  natives: ["global"]\n',
    });
    const refused = await runCli(['validate', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /x\.yaml:6 .*spec\.natives\[0\]: 'global' opens a section/);
    assert.equal((await runCli(['validate', '--allowUnsafeNatives', dir])).code, 0);
    const rendered = await runCli(['render', dir]);
    assert.equal(rendered.code, 1);
    assert.doesNotMatch(rendered.stdout, /backend x/);
  });

  it('refuses a master socket path whose commas would add -S options, before starting anything', async () => {
    const dir = await tempDir();
    const r = await runCli(['run', '--manifests', dir, '--haproxyMasterSocket', `${dir}/m.sock,level,admin`], {
      env: { AQUEDUCT_HOST: '127.0.0.1', AQUEDUCT_PORT: '1', AQUEDUCT_REGISTRY: 'none' },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--haproxyMasterSocket .*may not hold commas/);
  });

  it('still renders the valid objects when some are invalid, exiting 1', async () => {
    const dir = await copyOf(EXAMPLES);
    await writeFile(
      path.join(dir, 'bad.yaml'),
      'apiVersion: aqueduct/v1\nkind: Backend\nmetadata: {name: x}\nspec: {type: static, mode: udp}\n',
    );
    const r = await runCli(['render', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^backend live$/m);
    assert.match(r.stderr, /bad\.yaml.*spec\.mode/);
  });
});
