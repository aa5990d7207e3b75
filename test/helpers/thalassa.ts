// A real Thalassa registry for tests: redis-server and the `thalassa` npm
// package's server, on free loopback ports, stopped and started at will.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { registryRequest } from '../../src/sources/registry/registry-http.js';
import { ROOT } from './cli.js';
import { freePort, waitForPort } from './haproxy.js';

export const REDIS_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

export interface Redis {
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  return { port, stop: () => stopChild(child) };
}

export interface Thalassa {
  port: number;
  apiPort: number;
  api: string;
  running(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  register(name: string, version: string, port: number, extra?: Record<string, unknown>): Promise<void>;
  deregister(name: string, version: string, port: number): Promise<void>;
  /** GET on the registry's HTTP API, parsed. */
  get(urlPath: string): Promise<unknown>;
}

/** thalassa-server --port <events> --apiport <http> against redis; not started until start(). */
export async function thalassaServer(redis: Redis): Promise<Thalassa> {
  const port = await freePort();
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  let child: ChildProcess | undefined;
  const regUrl = (name: string, version: string, p: number) => `${api}/registrations/${name}/${version}/127.0.0.1/${p}`;
  return {
    port,
    apiPort,
    api,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'node_modules', 'thalassa', 'bin', 'server.js'),
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--apihost',
          '127.0.0.1',
          '--apiport',
          String(apiPort),
          '--redisPort',
          String(redis.port),
          '--reaperFreq',
          '500',
        ],
        { stdio: 'ignore' },
      );
      await waitForPort(apiPort);
      await waitForPort(port);
    },
    async stop() {
      if (child !== undefined) await stopChild(child);
    },
    async register(name, version, p, extra = {}) {
      const res = await registryRequest(
        'POST',
        regUrl(name, version, p),
        JSON.stringify({ secondsToExpire: 60, ...extra }),
      );
      if (res.status !== 200) throw new Error(`register: HTTP ${res.status}`);
    },
    async get(urlPath) {
      return JSON.parse((await registryRequest('GET', `${api}${urlPath}`)).body) as unknown;
    },
    async deregister(name, version, p) {
      const res = await registryRequest('DELETE', regUrl(name, version, p));
      if (res.status !== 200) throw new Error(`deregister: HTTP ${res.status}`);
    },
  };
}
