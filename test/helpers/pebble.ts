// A real ACME directory on loopback: Debian's pebble, resolving every name to
// 127.0.0.1 through pebble-challtestsrv's DNS, validating HTTP-01 on the port
// given (an Aqueduct frontend's).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, waitForPort } from './haproxy.js';
import { tempDir } from './fixtures.js';
import { makeCert } from './tls.js';

export interface Pebble {
  directory: string;
  /** pebble's own TLS certificate, to trust with --acmeCaFile. */
  caFile: string;
  stop(): Promise<void>;
}

function started(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export async function startPebble(httpPort: number): Promise<Pebble> {
  const dir = await tempDir('aqueduct-pebble-');
  const tls = await makeCert(['127.0.0.1', 'localhost']);
  const caFile = path.join(dir, 'cert.pem');
  await writeFile(caFile, tls.cert);
  await writeFile(path.join(dir, 'key.pem'), tls.key);
  const [listen, management, dns, challManagement] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: caFile,
      privateKey: path.join(dir, 'key.pem'),
      httpPort,
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  };
  await writeFile(path.join(dir, 'pebble.json'), JSON.stringify(config));
  const challtest = started('pebble-challtestsrv', [
    '-dns01',
    `127.0.0.1:${dns}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-management',
    `127.0.0.1:${challManagement}`,
    '-defaultIPv6',
    '',
  ]);
  const pebble = started('pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns}`], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
  });
  await waitForPort(listen, 15_000);
  await waitForPort(management, 15_000);
  return {
    directory: `https://127.0.0.1:${listen}/dir`,
    caFile,
    stop: async () => {
      await Promise.all([stopped(pebble), stopped(challtest)]);
    },
  };
}
