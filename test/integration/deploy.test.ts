// The deployment files under deploy/ are true: every YAML parses, every
// AQUEDUCT_* variable is one Aqueduct reads (from the CLI definition), the
// sidecars agree on paths and ports, and the Kubernetes pod's exact command
// lines and environment run here against a real HAProxy: HAProxy as its
// container starts it, Aqueduct as its container's entrypoint does, the
// manifests as a ConfigMap volume (symlink swap included).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { envName, RUN_OPTIONS } from '../../src/options.js';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { isApply, startAqueductProcess, type RunningAqueduct } from '../helpers/aqueduct.js';
import { openApiDocument } from '../helpers/app.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { DEPLOY, container, deployYamlFiles, envOf, mapPaths, podSpecs, type Doc } from '../helpers/deploy.js';
import { freePort, HAPROXY_BIN, waitForPort } from '../helpers/haproxy.js';
import { scenario, type Scenario } from '../helpers/scenario.js';
import { eventually, serverOf } from '../helpers/wait.js';

/** Env vars of `aqueduct registry` (its own command, not `run`). */
const REGISTRY_COMMAND_ENV = new Set(['AQUEDUCT_REGISTRY_HOST', 'AQUEDUCT_REGISTRY_PORT']);
const RUN_ENV = new Set(RUN_OPTIONS.map((o) => envName(o.flag)));

describe('deployment files', () => {
  it('parse, and name only environment variables Aqueduct reads', async () => {
    const files = await deployYamlFiles();
    assert.ok(files.length >= 5, files.map((f) => f.file).join(', '));
    for (const f of files) assert.deepEqual(f.errors, [], f.file);
    const texts = [
      ...(await Promise.all(files.map((f) => readFile(path.join(DEPLOY, f.file), 'utf8')))),
      await readFile(path.join(ROOT, 'Dockerfile'), 'utf8'),
    ];
    const names = new Set(texts.flatMap((t) => t.match(/AQUEDUCT_[A-Z_]+/g) ?? []));
    assert.ok(names.size > 5);
    for (const n of names) assert.ok(RUN_ENV.has(n) || REGISTRY_COMMAND_ENV.has(n), `${n} is not an Aqueduct option`);
  });

  it('agree on paths, ports and probes between HAProxy, Aqueduct and the Service', async () => {
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    for (const file of ['kubernetes/deployment.yaml', 'kubernetes/deployment-gitops.yaml']) {
      for (const { name, pod } of await podSpecs(file)) {
        const haproxy = container(pod, 'haproxy');
        const aqueduct = container(pod, 'aqueduct');
        const env = envOf(aqueduct);
        const cmd = haproxy.command ?? [];
        assert.equal(cmd[cmd.indexOf('-S') + 1]?.split(',')[0], env['AQUEDUCT_HAPROXY_MASTER_SOCKET'], `${name}: -S`);
        assert.equal(cmd[cmd.indexOf('-f') + 1], env['AQUEDUCT_HAPROXY_CFG_PATH'], `${name}: -f`);
        assert.ok(cmd.includes('-W'), `${name}: master-worker mode`);
        assert.equal(env['AQUEDUCT_HAPROXY_MODE'], 'external');
        // The shared volume holds the config and both sockets, in both containers.
        for (const p of [
          'AQUEDUCT_HAPROXY_CFG_PATH',
          'AQUEDUCT_HAPROXY_SOCKET_PATH',
          'AQUEDUCT_HAPROXY_MASTER_SOCKET',
        ]) {
          for (const c of [haproxy, aqueduct]) {
            const mount = c.volumeMounts?.find((m) => (env[p] ?? '').startsWith(`${m.mountPath}/`));
            assert.ok(mount !== undefined, `${name}/${c.name} does not mount the directory of ${p}`);
            assert.equal(mount.name, 'run');
          }
        }
        assert.ok(aqueduct.volumeMounts?.some((m) => (env['AQUEDUCT_MANIFESTS'] ?? '').startsWith(m.mountPath)));
        const apiPort = aqueduct.ports?.find((p) => p.name === 'api')?.containerPort;
        assert.equal(String(apiPort), env['AQUEDUCT_PORT']);
        const routes = new Set(Object.keys((await openApiDocument())['paths'] as object));
        for (const probe of [aqueduct.readinessProbe, aqueduct.livenessProbe])
          assert.ok(routes.has(probe?.httpGet?.path ?? ''), `${name}: probe ${probe?.httpGet?.path}`);
        // The bootstrap config goes where HAProxy reads it, with the socket Aqueduct uses.
        const init = (container(pod, 'bootstrap-config').command ?? []).join(' ');
        assert.ok(init.includes(`> ${env['AQUEDUCT_HAPROXY_CFG_PATH']}`));
        assert.ok(init.includes(`--haproxySocketPath ${env['AQUEDUCT_HAPROXY_SOCKET_PATH']}`));
        // The image's defaults are the sidecar layout.
        for (const key of [
          'AQUEDUCT_HAPROXY_CFG_PATH',
          'AQUEDUCT_HAPROXY_SOCKET_PATH',
          'AQUEDUCT_HAPROXY_MASTER_SOCKET',
        ])
          assert.match(dockerfile, new RegExp(`${key}=${env[key]}`));
      }
    }
  });

  it("stop HAProxy softly, within the pod's grace period", async () => {
    for (const file of ['kubernetes/deployment.yaml', 'kubernetes/deployment-gitops.yaml']) {
      for (const { name, pod } of await podSpecs(file)) {
        // HAProxy is stopped softly, and the pod waits longer than hard-stop-after for it.
        const haproxy = container(pod, 'haproxy') as { lifecycle?: { preStop?: { exec?: { command?: string[] } } } };
        assert.match((haproxy.lifecycle?.preStop?.exec?.command ?? []).join(' '), /kill -USR1 1/, `${name}: preStop`);
        const hardStop = /^(\d+)s$/.exec(envOf(container(pod, 'aqueduct'))['AQUEDUCT_HARD_STOP_AFTER'] ?? '');
        assert.ok(hardStop !== null, `${name}: AQUEDUCT_HARD_STOP_AFTER in seconds`);
        const grace = (pod as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
        assert.ok(grace > Number(hardStop[1]), `${name}: terminationGracePeriodSeconds ${grace} > hard-stop-after`);
      }
    }
  });

  it("route the Service's ports to ports the containers declare", async () => {
    const all = await deployYamlFiles();
    const deployment = all.find((f) => f.file === 'kubernetes/deployment.yaml')?.docs ?? [];
    const service = deployment.find((d) => d['kind'] === 'Service') as Doc;
    const pod = (await podSpecs('kubernetes/deployment.yaml'))[0]?.pod;
    assert.ok(pod !== undefined);
    const portNames = new Set(pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of (service['spec'] as Doc)['ports'] as Doc[]) assert.ok(portNames.has(String(p['targetPort'])));
  });

  it('keep the ConfigMap equal to deploy/manifests (what compose mounts)', async () => {
    const cm = parse(await readFile(path.join(DEPLOY, 'kubernetes/manifests-configmap.yaml'), 'utf8')) as Doc;
    const data = cm['data'] as Record<string, string>;
    const files = (await readdir(path.join(DEPLOY, 'manifests'))).sort();
    assert.deepEqual(Object.keys(data).sort(), files);
    for (const f of files) assert.equal(data[f], await readFile(path.join(DEPLOY, 'manifests', f), 'utf8'), f);
  });
});

describe('the Kubernetes sidecar pod, run here', () => {
  const children: ChildProcess[] = [];
  let aq: RunningAqueduct | undefined;
  let s: Scenario | undefined;
  // Closed whatever happened: a scenario's servers left open keep this file's
  // process alive, so a failed test used to hang the run instead of failing it.
  after(async () => {
    await aq?.stop();
    await s?.close();
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      await exited;
    }
  });

  it('serves the ConfigMap through HAProxy and follows a ConfigMap update', async () => {
    s = await scenario();
    const pod = await runPod(s, children);
    aq = pod.aq;
    await aq.waitFor(isApply('reload'), 20_000, 0);
    assert.equal(
      await eventually(
        () => serverOf(pod.frontendPort),
        (x) => x === 'live-1',
        10_000,
      ),
      'live-1',
    );
    assert.equal(await serverOf(pod.frontendPort, 'staged.myapp.com'), 'staged-1');
    // kubectl apply of a changed ConfigMap: the default backend becomes staged.
    const changed = { ...pod.data };
    const fe = parse(pod.data['myapp-frontend.yaml'] as string) as Doc;
    (fe['spec'] as Doc)['backend'] = 'staged';
    changed['myapp-frontend.yaml'] = stringify(fe);
    await pod.publish('..2026_11_23_02', changed);
    assert.equal(
      await eventually(
        () => serverOf(pod.frontendPort),
        (x) => x === 'staged-1',
        15_000,
      ),
      'staged-1',
    );
  });
});

interface PodRun {
  aq: RunningAqueduct;
  frontendPort: number;
  /** The ConfigMap's files. */
  data: Record<string, string>;
  /** Publishes a new version of the ConfigMap as the kubelet does (an atomic ..data swap). */
  publish(version: string, files: Record<string, string>): Promise<void>;
}

/** The pod of deployment.yaml and the registry of registry.yaml, their exact command lines mapped onto a temp directory. */
async function runPod(s: Scenario, children: ChildProcess[]): Promise<PodRun> {
  const dir = await tempDir('aqueduct-pod-');
  const pod = (await podSpecs('kubernetes/deployment.yaml'))[0]?.pod;
  assert.ok(pod !== undefined);
  const ports = { frontend: await freePort(), registry: await freePort(), api: await freePort() };
  // The container paths, mapped onto this test's directory; nothing else of the command lines changes.
  const mapping: Record<string, string> = {
    '/run/haproxy': path.join(dir, 'run'),
    '/manifests': path.join(dir, 'manifests'),
    '/var/lib/aqueduct': path.join(dir, 'state'),
    '/var/lib/registry': path.join(dir, 'registry'),
    '/app/bin/aqueduct.js': path.join(ROOT, 'bin', 'aqueduct.js'),
  };
  for (const d of ['run', 'state', 'registry']) await mkdir(path.join(dir, d));
  const volume = await configMapVolume(mapping['/manifests'] as string, ports.frontend);
  children.push(await podRegistry(s, mapping, ports.registry));
  // The init container, then HAProxy exactly as its container starts it.
  const init = (container(pod, 'bootstrap-config').command ?? []).map((a) => mapPaths(a, mapping));
  const [code] = (await once(spawn(init[0] as string, init.slice(1), { stdio: 'ignore' }), 'exit')) as [number];
  assert.equal(code, 0, 'the bootstrap config was rendered');
  const haproxyCmd = (container(pod, 'haproxy').command ?? []).map((a) => mapPaths(a, mapping));
  children.push(spawn(HAPROXY_BIN, haproxyCmd.slice(1), { stdio: 'ignore' }));
  await waitForPort(ports.frontend);
  const env = await podEnv(container(pod, 'aqueduct'), mapping, ports);
  const aq = await startAqueductProcess({
    dir,
    bare: true,
    args: container(pod, 'aqueduct').args?.slice(1) ?? [],
    env,
  });
  return { aq, frontendPort: ports.frontend, ...volume };
}

/** The manifests as Kubernetes mounts a ConfigMap: ..data → a timestamped directory, visible symlinks into it. */
async function configMapVolume(mdir: string, frontendPort: number): Promise<Pick<PodRun, 'data' | 'publish'>> {
  const cm = parse(await readFile(path.join(DEPLOY, 'kubernetes/manifests-configmap.yaml'), 'utf8')) as Doc;
  const data = cm['data'] as Record<string, string>;
  await mkdir(mdir);
  const publish = async (version: string, files: Record<string, string>) => {
    await mkdir(path.join(mdir, version));
    for (const [k, v] of Object.entries(files))
      await writeFile(path.join(mdir, version, k), v.replace('"*:8080"', `"127.0.0.1:${frontendPort}"`));
    await symlink(version, path.join(mdir, '..data_tmp'));
    await rename(path.join(mdir, '..data_tmp'), path.join(mdir, '..data')); // the atomic swap
  };
  await publish('..2026_11_23_01', data);
  for (const k of Object.keys(data)) await symlink(path.join('..data', k), path.join(mdir, k));
  return { data, publish };
}

/** The registry as registry.yaml runs it (its port mapped to loopback), with myapp 1.0.0 and 1.1.0 registered. */
async function podRegistry(s: Scenario, mapping: Record<string, string>, port: number): Promise<ChildProcess> {
  const registryPod = (await podSpecs('kubernetes/registry.yaml'))[0]?.pod;
  assert.ok(registryPod !== undefined);
  const args = (container(registryPod, 'registry').args ?? []).map((a) => mapPaths(a, mapping));
  const registry = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'aqueduct.js'), ...args.map((a) => (a === '9000' ? String(port) : a))],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(port);
  for (const [version, echo] of [
    ['1.0.0', 'live-1'],
    ['1.1.0', 'staged-1'],
  ] as const)
    await registryRequest(
      'POST',
      `http://127.0.0.1:${port}/registrations/myapp/${version}/127.0.0.1/${s.echoes.get(echo)?.port}`,
      '{"secondsToExpire": 600}',
    );
  return registry;
}

/** The container's environment, paths mapped; its API on a free loopback port, the registry and exporter on loopback. */
async function podEnv(
  c: Parameters<typeof envOf>[0],
  mapping: Record<string, string>,
  ports: { api: number; registry: number },
): Promise<Record<string, string>> {
  const env = Object.fromEntries(Object.entries(envOf(c)).map(([k, v]) => [k, mapPaths(v, mapping)]));
  Object.assign(env, {
    AQUEDUCT_HOST: '127.0.0.1',
    AQUEDUCT_PORT: String(ports.api),
    AQUEDUCT_THALASSA_HOST: '127.0.0.1',
    AQUEDUCT_THALASSA_API_PORT: String(ports.registry),
    AQUEDUCT_HAPROXY_BIN: HAPROXY_BIN,
  });
  // HAProxy's exporter listens on a free loopback port here, not on the pod's 0.0.0.0:8405.
  if (env['AQUEDUCT_HAPROXY_METRICS_BIND'] !== undefined)
    env['AQUEDUCT_HAPROXY_METRICS_BIND'] = `127.0.0.1:${await freePort()}`;
  return env;
}
