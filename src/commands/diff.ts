// `aqueduct diff <dir>`: what applying a manifests directory would do, for a
// GitOps pipeline to show before merging. Against a running Aqueduct (its
// POST /diff renders with its own options, members and last good versions)
// or against a config file (rendered here). Exit codes as diff(1) and
// kubectl diff: 0 nothing would change, 1 something would, 2 trouble.
import { readFile } from 'node:fs/promises';
import { configDiff, type ConfigDiff } from '../core/planning/config-diff.js';
import type { Io } from '../io.js';
import { printIssues } from '../io.js';
import { readManifestDir } from '../sources/manifest-dir.js';
import { renderDir, type RenderCommandOptions } from './offline.js';

export interface DiffOptions extends RenderCommandOptions {
  /** Base URL of a running Aqueduct's API. */
  api?: string;
  /** Bearer token for it (AQUEDUCT_API_READ_TOKEN or AQUEDUCT_API_TOKEN). */
  token?: string;
  /** A config file to compare with instead. */
  config?: string;
  json: boolean;
}

async function againstApi(
  io: Io,
  dir: string,
  api: string,
  token: string | undefined,
): Promise<ConfigDiff | undefined> {
  const files = await readManifestDir(dir);
  const unreadable = files.filter((f) => f.unreadable !== undefined);
  if (unreadable.length > 0) {
    for (const f of unreadable) io.err(`aqueduct: cannot read ${f.path || dir}: ${String(f.unreadable)}\n`);
    return undefined;
  }
  const url = `${api.replace(/\/+$/, '')}/diff`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ files: files.map(({ path, text }) => ({ path, text })) }),
    });
    const body = (await res.json()) as ConfigDiff & { message?: string };
    if (res.ok) return body;
    io.err(`aqueduct: ${url} answered ${res.status}: ${body.message ?? ''}\n`);
  } catch (err) {
    io.err(`aqueduct: cannot reach ${url}: ${(err as Error).message}\n`);
  }
  return undefined;
}

async function againstFile(io: Io, dir: string, file: string, opts: DiffOptions): Promise<ConfigDiff | undefined> {
  const served = await readFile(file, 'utf8').catch((err: unknown) => {
    io.err(`aqueduct: cannot read ${file}: ${(err as Error).message}\n`);
    return undefined;
  });
  if (served === undefined) return undefined;
  const rendered = await renderDir(io, dir, opts);
  return rendered === undefined ? undefined : configDiff(served, rendered.config, rendered.issues);
}

export async function diffCommand(io: Io, dir: string, opts: DiffOptions): Promise<number> {
  if ((opts.api === undefined) === (opts.config === undefined)) {
    io.err('aqueduct: diff needs one of --api <url> (a running Aqueduct) or --config <file>\n');
    return 2;
  }
  const result =
    opts.api !== undefined
      ? await againstApi(io, dir, opts.api, opts.token)
      : await againstFile(io, dir, opts.config as string, opts);
  if (result === undefined) return 2;
  if (opts.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
  else {
    printIssues(io, result.issues);
    io.out(`plan: ${result.plan}\n${result.reasons.map((r) => `  ${r}\n`).join('')}${result.diff}`);
  }
  // Invalid manifests would not be served as written: that is trouble, not a change.
  if (result.issues.length > 0) return 2;
  return result.plan === 'noop' ? 0 : 1;
}
