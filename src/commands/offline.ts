// Commands that need no HAProxy process: validate and render.
import { buildDesiredState } from '../core/desired-state.js';
import type { Issue } from '../core/issues.js';
import { checkRenderOptions, renderConfig, type RenderOptions } from '../core/render.js';
import { printIssues, type Io } from '../io.js';
import { loadManifestDir } from '../sources/manifest-dir.js';
import { readMembersFile } from '../sources/members-file.js';
import { readTemplateFile } from '../sources/template-file.js';
import type { MemberMap } from '../core/model.js';
import { stat } from 'node:fs/promises';

async function requireDir(io: Io, dir: string): Promise<boolean> {
  const s = await stat(dir).catch(() => undefined);
  if (s?.isDirectory() === true) return true;
  io.err(`aqueduct: manifests directory not found: ${dir}\n`);
  return false;
}

/** Exit 0 when every manifest is valid, 1 with every problem listed. */
export async function validateCommand(
  io: Io,
  dir: string,
  opts: { json: boolean; allowUnsafeNatives?: boolean },
): Promise<number> {
  if (!(await requireDir(io, dir))) return 2;
  const set = await loadManifestDir(dir, { allowUnsafeNatives: opts.allowUnsafeNatives === true });
  const ok = set.issues.length === 0;
  if (opts.json) {
    const objects = [...set.frontends, ...set.backends].map((m) => ({
      kind: m.manifest.kind,
      name: m.manifest.metadata.name,
      ...m.source,
    }));
    io.out(`${JSON.stringify({ ok, objects, issues: set.issues }, null, 2)}\n`);
  } else {
    printIssues(io, set.issues);
    const count = set.frontends.length + set.backends.length;
    const summary = ok ? `${count} objects valid` : `${set.issues.length} problem(s); ${count} valid objects`;
    io.err(`${summary} (${set.frontends.length} frontends, ${set.backends.length} backends)\n`);
  }
  return ok ? 0 : 1;
}

export interface RenderCommandOptions {
  templateFile: string;
  allowUnsafeNatives?: boolean;
  membersFile?: string;
  render: RenderOptions;
}

/** Prints the config of the valid objects; exit 1 (config still printed) when some were invalid. */
export async function renderCommand(io: Io, dir: string, opts: RenderCommandOptions): Promise<number> {
  if (!(await requireDir(io, dir))) return 2;
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
    return 2;
  }
  const set = await loadManifestDir(dir, { allowUnsafeNatives: opts.allowUnsafeNatives === true });
  printIssues(io, set.issues);
  const state = buildDesiredState(
    set.frontends.map((f) => f.manifest),
    set.backends.map((b) => b.manifest),
    members,
  );
  io.out(renderConfig(template.template, state, opts.render));
  return set.issues.length === 0 ? 0 : 1;
}
