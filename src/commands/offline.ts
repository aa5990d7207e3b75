// Commands that need no HAProxy process: validate and render.
import { buildDesiredState } from '../core/rendering/desired-state.js';
import type { Issue } from '../core/issues.js';
import { checkRenderOptions, renderConfig, type RenderOptions } from '../core/rendering/render.js';
import { checkIssues } from '../core/haproxy-output/check-errors.js';
import { sortIssues, type ManifestSet } from '../core/manifests/manifests.js';
import { checkConfigText } from '../haproxy/check.js';
import { installRouteMaps } from '../haproxy/route-map-files.js';
import { routeMapsOf } from '../core/rendering/config-sections.js';
import { printIssues, type Io } from '../io.js';
import { loadManifestDir } from '../sources/manifest-dir.js';
import { readMembersFile } from '../sources/members-file.js';
import { readTemplateFile } from '../sources/template-file.js';
import type { MemberMap } from '../core/manifests/model.js';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../clock.js';
import { stageCertificates } from '../tls/offline-certificates.js';

const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

async function requireDir(io: Io, dir: string): Promise<boolean> {
  const s = await stat(dir).catch(() => undefined);
  if (s?.isDirectory() === true) return true;
  io.err(`aqueduct: manifests directory not found: ${dir}\n`);
  return false;
}

export interface ValidateOptions {
  json: boolean;
  allowUnsafeNatives?: boolean;
  /** haproxy -c on the rendered result, when this binary is found; undefined skips it. */
  haproxyBin?: string;
  templateFile: string;
}

/**
 * haproxy -c on what the valid objects render to, its complaints as issues
 * on the manifests; a note instead when there is no haproxy to run.
 */
async function haproxyCheck(io: Io, dir: string, set: ManifestSet, opts: ValidateOptions): Promise<Issue[]> {
  const state = buildDesiredState(
    set.frontends.map((f) => f.manifest),
    set.backends.map((b) => b.manifest),
    {},
  );
  // The certificates are judged even without haproxy -c; HAProxy loads them from a scratch tls folder.
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'aqueduct-validate-'));
  let certIssues: Issue[] = [];
  try {
    const tlsDir = path.join(scratch, 'tls');
    const nowMs = systemClock.now();
    certIssues = await stageCertificates(set.certificates, state.frontends, { manifestsDir: dir, tlsDir, nowMs });
    if (opts.haproxyBin === undefined) return certIssues;
    const template = await readTemplateFile(opts.templateFile);
    if (template.template === undefined) return [...certIssues, ...template.issues];
    const render = { statsSocketPath: path.join(scratch, 'stats.sock'), tlsDir };
    const config = renderConfig(template.template, state, render);
    const result = await checkConfigText(opts.haproxyBin, config);
    return result.ok
      ? certIssues
      : [...certIssues, ...checkIssues(config, result.errors, [...set.frontends, ...set.backends])];
  } catch (err) {
    io.err(`note: ${(err as Error).message}; haproxy -c skipped (--haproxyBin, or --skipHaproxyCheck)\n`);
    return certIssues;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Exit 0 when every manifest is valid (and HAProxy accepts what they render to), 1 with every problem listed. */
export async function validateCommand(io: Io, dir: string, opts: ValidateOptions): Promise<number> {
  if (!(await requireDir(io, dir))) return 2;
  const set = await loadManifestDir(dir, { allowUnsafeNatives: opts.allowUnsafeNatives === true });
  const issues = sortIssues([...set.issues, ...(await haproxyCheck(io, dir, set, opts))]);
  const ok = issues.length === 0;
  if (opts.json) {
    const objects = [...set.frontends, ...set.backends, ...set.certificates].map((m) => ({
      kind: m.manifest.kind,
      name: m.manifest.metadata.name,
      ...m.source,
    }));
    io.out(`${JSON.stringify({ ok, objects, issues }, null, 2)}\n`);
  } else {
    printIssues(io, issues);
    const count = set.frontends.length + set.backends.length + set.certificates.length;
    const kinds = [
      counted(set.frontends.length, 'frontend'),
      counted(set.backends.length, 'backend'),
      counted(set.certificates.length, 'certificate'),
    ].join(', ');
    // The summary is the answer (stdout); the problems above it are diagnostics (stderr).
    if (ok) io.out(`${counted(count, 'object')} valid (${kinds})\n`);
    else io.err(`${counted(issues.length, 'problem')}; ${counted(count, 'valid object')} (${kinds})\n`);
  }
  return ok ? 0 : 1;
}

export interface RenderCommandOptions {
  templateFile: string;
  allowUnsafeNatives?: boolean;
  membersFile?: string;
  render: RenderOptions;
  /** Also write the routing maps the config reads, into render.mapDir (a config HAProxy starts from). */
  writeMaps?: boolean;
}

/** The config the valid objects under dir produce, with the problems found; undefined (printed) on a fatal one. */
export async function renderDir(
  io: Io,
  dir: string,
  opts: RenderCommandOptions,
): Promise<{ config: string; issues: Issue[] } | undefined> {
  if (!(await requireDir(io, dir))) return undefined;
  const fatal: Issue[] = [...checkRenderOptions(opts.render)];
  const template = await readTemplateFile(opts.templateFile);
  fatal.push(...template.issues);
  let members: MemberMap = {};
  if (opts.membersFile !== undefined) {
    const read = await readMembersFile(opts.membersFile);
    fatal.push(...read.issues);
    members = read.members;
  }
  if (fatal.length > 0 || template.template === undefined) {
    printIssues(io, fatal);
    return undefined;
  }
  const set = await loadManifestDir(dir, { allowUnsafeNatives: opts.allowUnsafeNatives === true });
  const state = buildDesiredState(
    set.frontends.map((f) => f.manifest),
    set.backends.map((b) => b.manifest),
    members,
  );
  return { config: renderConfig(template.template, state, opts.render), issues: set.issues };
}

/** Prints the config of the valid objects; exit 1 (config still printed) when some were invalid. */
export async function renderCommand(io: Io, dir: string, opts: RenderCommandOptions): Promise<number> {
  const rendered = await renderDir(io, dir, opts);
  if (rendered === undefined) return 2;
  printIssues(io, rendered.issues);
  const maps = routeMapsOf(rendered.config).size;
  if (maps > 0 && opts.writeMaps === true && opts.render.mapDir !== undefined) {
    await installRouteMaps(rendered.config, opts.render.mapDir);
  } else if (maps > 0) {
    io.err(
      `note: this config reads ${counted(maps, 'routing map')} from ${opts.render.mapDir ?? 'its maps folder'}; --writeMaps writes them there, for an HAProxy started from it\n`,
    );
  }
  io.out(rendered.config);
  return rendered.issues.length === 0 ? 0 : 1;
}
