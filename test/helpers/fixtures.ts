// Builders for manifests as plain data, and for manifest directories on disk.
import { mkdtemp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ManifestFile } from '../../src/core/manifests/manifests.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function frontend(name: string, spec: JsonObject): JsonObject {
  return { apiVersion: 'aqueduct/v1', kind: 'Frontend', metadata: { name }, spec };
}

export function backend(name: string, spec: JsonObject): JsonObject {
  return { apiVersion: 'aqueduct/v1', kind: 'Backend', metadata: { name }, spec };
}

export function staticBackend(name: string, ports: number[], extra: JsonObject = {}): JsonObject {
  return backend(name, { type: 'static', members: ports.map((port) => ({ host: '127.0.0.1', port })), ...extra });
}

/** One YAML file holding the given documents. */
export function yamlFile(filePath: string, ...docs: JsonObject[]): ManifestFile {
  return { path: filePath, text: docs.map((d) => stringify(d)).join('---\n') };
}

export async function tempDir(prefix = 'aqueduct-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes files (relative path → text) under a new temporary directory and returns it. */
export async function writeTree(files: Record<string, string>, dir?: string): Promise<string> {
  const root = dir ?? (await tempDir());
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(root, rel);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, text);
  }
  return root;
}

/** Every file under dir with its text, by relative path (writeTree's inverse): "nothing was written" is this staying equal. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(dir, full)] = await readFile(full, 'utf8');
  }
  return out;
}

/** A complete, valid manifest set using every field. */
export function everyFieldSet(): JsonObject[] {
  return [
    frontend('web', {
      bind: '127.0.0.1:18080,127.0.0.1:18081',
      backend: 'live',
      mode: 'http',
      keepalive: 'server-close',
      rules: [
        { type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.example.com', backend: 'staged' },
        { type: 'path', operation: 'path', value: '/favicon.ico', backend: 'static' },
        { type: 'path', operation: 'path_beg', value: '/api/', backend: 'api' },
        { type: 'path', operation: 'path_reg', value: '^/article/[^/]*$', backend: 'api' },
        { type: 'url', operation: 'url', value: '/exact?q=1', backend: 'static' },
        { type: 'url', operation: 'url_beg', value: '/bar', backend: 'staged' },
        { type: 'url', operation: 'url_reg', value: '\\.json$', backend: 'api' },
      ],
      natives: ['http-response set-header X-Frontend web'],
    }),
    frontend('db', { bind: '127.0.0.1:15432', backend: 'pg', mode: 'tcp' }),
    backend('live', {
      type: 'static',
      balance: 'roundrobin',
      host: 'myapp.example.com',
      mode: 'http',
      health: { method: 'GET', uri: '/health', httpVersion: 'HTTP/1.1', interval: 5000 },
      natives: ['http-response set-header X-Backend live'],
      members: [
        { host: '127.0.0.1', port: 19001, weight: 10 },
        { host: '127.0.0.1', port: 19002, weight: 0 },
      ],
    }),
    backend('staged', {
      type: 'static',
      balance: 'leastconn',
      health: { uri: '/ping', httpVersion: 'HTTP/1.0', interval: 1000 },
      members: [{ host: '::1', port: 19003 }],
    }),
    backend('api', { type: 'dynamic', name: 'myapi', version: '1.2.3', balance: 'source' }),
    backend('static', { type: 'static', balance: 'uri', members: [{ host: 'localhost', port: 19004 }] }),
    backend('pg', {
      type: 'static',
      mode: 'tcp',
      balance: 'first',
      health: { interval: 3000 },
      members: [{ host: '127.0.0.1', port: 15433 }],
    }),
  ];
}

/**
 * The bundled template with the servers' health checks left out, written into
 * dir: tens of thousands of checks need more file descriptors than a test
 * machine allows, and checks of closed ports keep the process busy logging.
 */
export async function templateWithoutChecks(dir: string): Promise<string> {
  const bundled = await readFile(
    path.join(import.meta.dirname, '..', '..', 'templates', 'haproxy.cfg.mustache'),
    'utf8',
  );
  const text = bundled.replace(' check inter {{interval}}', '');
  if (text === bundled) throw new Error('the bundled template no longer has the server check to leave out');
  const file = path.join(dir, 'no-checks.mustache');
  await writeFile(file, text);
  return file;
}
