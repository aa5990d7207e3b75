// Reading the deployment files under deploy/: the containers of the
// Kubernetes manifests, and their paths mapped onto a test directory so the
// exact command lines and environment can run on this machine.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './cli.js';

export const DEPLOY = path.join(ROOT, 'deploy');

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
}

export type Doc = Record<string, unknown>;

/** Every YAML file under deploy/, with its documents (parse errors included). */
export async function deployYamlFiles(): Promise<{ file: string; docs: Doc[]; errors: string[] }[]> {
  const out: { file: string; docs: Doc[]; errors: string[] }[] = [];
  for (const rel of (await readdir(DEPLOY, { recursive: true })).sort()) {
    if (!/\.ya?ml$/.test(rel)) continue;
    const text = await readFile(path.join(DEPLOY, rel), 'utf8');
    const parsed = parseAllDocuments(text);
    const list = Array.isArray(parsed) ? parsed : [parsed];
    out.push({
      file: rel,
      docs: list.map((d) => d.toJS() as Doc).filter((d) => d !== null),
      errors: list.flatMap((d) => d.errors.map((e) => e.message)),
    });
  }
  return out;
}

/** The pod templates of the Deployments in a file. */
export async function podSpecs(file: string): Promise<{ name: string; pod: PodSpec }[]> {
  const all = await deployYamlFiles();
  const docs = all.find((f) => f.file === file)?.docs ?? [];
  return docs
    .filter((d) => d['kind'] === 'Deployment')
    .map((d) => ({
      name: String((d['metadata'] as Doc)['name']),
      pod: ((d['spec'] as Doc)['template'] as Doc)['spec'] as PodSpec,
    }));
}

export const container = (pod: PodSpec, name: string): Container => {
  const c = [...pod.containers, ...(pod.initContainers ?? [])].find((x) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
};

export const envOf = (c: Container): Record<string, string> =>
  Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));

/** Replaces container paths (longest first, in one pass) with paths of the test's own. */
export function mapPaths(text: string, mapping: Record<string, string>): string {
  const keys = Object.keys(mapping).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(pattern, (m) => mapping[m] ?? m);
}
