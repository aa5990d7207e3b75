// The example scenario on free ports: echo servers as members, manifests
// written into a run's manifests directory.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { frontend, staticBackend, type JsonObject } from './fixtures.js';
import { freePort, startEchoServer, type EchoServer } from './haproxy.js';

export interface Scenario {
  port: number;
  echoes: Map<string, EchoServer>;
  frontend(extra?: JsonObject): JsonObject;
  /** The README's set: frontend myapp (with extra fields), backend live on these echo servers, backend staged on staged-1. */
  myapp(frontendExtra?: JsonObject, live?: string[]): JsonObject[];
  write(manifests: string, file: string, ...docs: JsonObject[]): Promise<void>;
  close(): Promise<void>;
}

/** Echo servers named live-1, live-2, staged-1, extra-1..3 and a frontend port. */
export async function scenario(): Promise<Scenario> {
  const echoes = new Map<string, EchoServer>();
  for (const name of ['live-1', 'live-2', 'staged-1', 'extra-1', 'extra-2', 'extra-3'])
    echoes.set(name, await startEchoServer(name));
  const port = await freePort();
  const frontendOf = (extra: JsonObject = {}) =>
    frontend('myapp', {
      bind: `127.0.0.1:${port}`,
      backend: 'live',
      rules: [{ type: 'header', header: 'host', operation: 'hdr_dom', value: 'staged.myapp.com', backend: 'staged' }],
      ...extra,
    });
  const self: Scenario = {
    port,
    echoes,
    frontend: frontendOf,
    myapp: (frontendExtra = {}, live = ['live-1']) => [
      frontendOf(frontendExtra),
      backendOf(self, 'live', live),
      backendOf(self, 'staged', ['staged-1']),
    ],
    write: async (manifests, file, ...docs) => {
      // Atomic, as editors and git do: write aside, then rename.
      const tmp = path.join(manifests, `.${file}.tmp`);
      await writeFile(tmp, docs.map((d) => stringify(d)).join('---\n'));
      const { rename } = await import('node:fs/promises');
      await rename(tmp, path.join(manifests, file));
    },
    close: async () => {
      await Promise.all([...echoes.values()].map((e) => e.close()));
    },
  };
  return self;
}

export function backendOf(s: Scenario, name: string, members: string[], extra: JsonObject = {}): JsonObject {
  return staticBackend(
    name,
    members.map((m) => (s.echoes.get(m) as EchoServer).port),
    extra,
  );
}
