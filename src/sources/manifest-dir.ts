// Reads the manifest files of a directory tree. The only part of loading that
// touches the file system; parsing and validation are in core/manifests.ts.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import {
  checkManifestSet,
  parseManifestFiles,
  sortIssues,
  type ManifestFile,
  type ManifestSet,
} from '../core/manifests/manifests.js';
import { applyNativesPolicy } from '../core/manifests/natives-policy.js';

// The callback API, promisified: in Node 20, node:fs/promises costs about twice as much per small file
// (1,000 files of 700 bytes stat'ed and read: 83 ms against 50 in a fresh process), which every whole
// read pays, a start's first of all.
const [lstat, readdir, readFile, realpath, stat] = [
  promisify(fs.lstat),
  promisify(fs.readdir),
  promisify(fs.readFile),
  promisify(fs.realpath),
  promisify(fs.stat),
];

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Whether a name can hold manifests. Hidden names are skipped at every level:
 * that covers editors' temporary files and Kubernetes ConfigMap volumes,
 * whose real files live under "..data" and "..<timestamp>" directories
 * beside the visible symlinks (reading both would define everything twice).
 */
export function isManifestName(name: string): boolean {
  return !name.startsWith('.') && MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** Larger manifest files are reported, not read: memory stays bounded whatever lands in the directory. */
export const MAX_MANIFEST_FILE_BYTES = 64 * 1024 * 1024;

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
/** The order a read lists its files in: by relative path, code unit by code unit. */
export const byPath = (a: ManifestFile, b: ManifestFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const reason = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** How many files of one directory are read at once. */
export const READ_BATCH = 64;

/** One manifest file's entry, as a read of its directory lists it: undefined when it is gone. */
async function fileEntry(full: string, relPath: string, size: number): Promise<ManifestFile | undefined> {
  const unreadable = (err: unknown): ManifestFile => ({ path: relPath, text: '', unreadable: reason(err) });
  if (size > MAX_MANIFEST_FILE_BYTES)
    return unreadable(new Error(`${size} bytes, over the ${MAX_MANIFEST_FILE_BYTES}-byte limit`));
  try {
    return { path: relPath, text: await readFile(full, 'utf8') };
  } catch (err) {
    // A writer may replace the file between readdir and read; the next reconcile sees the new one.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : unreadable(err);
  }
}

/**
 * One path of a directory read before, read again as a whole read would
 * list it: its entry, undefined when a whole read would not list it (gone,
 * a dangling link, not a file, not a manifest's name), or 'directory' when it
 * now leads to one (only a whole read can walk it); `link` when what the path
 * reads can change with no event at it (readsThroughLink).
 */
export async function readManifestPath(
  dir: string,
  relPath: string,
): Promise<{ entry: ManifestFile | 'directory' | undefined; link: boolean }> {
  const full = path.join(dir, ...relPath.split('/'));
  const [own, target] = await Promise.all([lstat(full), stat(full)].map((p) => p.catch(() => undefined)));
  if (target?.isDirectory() === true) return { entry: 'directory', link: false };
  const name = path.basename(full);
  const link = readsThroughLink(name, own?.isSymbolicLink() === true, target);
  // Other names are listed only when they lead to a directory (walked), like any name.
  if (!isManifestName(name)) return { entry: undefined, link };
  return { entry: target?.isFile() === true ? await fileEntry(full, relPath, target.size) : undefined, link };
}

/**
 * Whether what a path reads can change with no event at the path: a link
 * that leads to a file, or, under a manifest's name, to nothing (yet) or to
 * something that is no file. The walk and a path read alone note links by
 * this one rule.
 */
function readsThroughLink(name: string, isLink: boolean, target: fs.Stats | undefined): boolean {
  return isLink && target?.isDirectory() !== true && (target?.isFile() === true || isManifestName(name));
}

/** What a read of a directory met on its way, for those who watch it. */
export interface DirNotes {
  /** The real path of every directory read (the watcher follows them). */
  realDirs?: Set<string>;
  /** The relative path of each directory walked ('' for the directory itself), as its files are listed. */
  walked?: Set<string>;
  /** The paths whose reading can change with no event at them (readsThroughLink): links to files, dangling ones. */
  links?: Set<string>;
}

/**
 * Every *.yaml / *.yml under dir, recursively, following symlinks (each real
 * directory once, so loops end), sorted by relative path. An entry that
 * cannot be read (permissions, size, vanished) is returned as `unreadable`
 * instead of failing the whole read; a missing or unreadable `dir` is one
 * such entry with the path ''. `notes`, when given, collects what the
 * read met on its way (see DirNotes).
 */
export async function readManifestDir(dir: string, notes: DirNotes = {}): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const visited = notes.realDirs ?? new Set<string>();
  visited.clear();
  notes.walked?.clear();
  notes.links?.clear();
  const rel = (full: string) => path.relative(dir, full).split(path.sep).join('/');
  const unreadable = (p: string, err: unknown) => files.push({ path: p, text: '', unreadable: reason(err) });
  async function readOne(full: string, size: number): Promise<void> {
    const entry = await fileEntry(full, rel(full), size);
    if (entry !== undefined) files.push(entry);
  }
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      const real = await realpath(current);
      if (visited.has(real)) return; // a symlink loop, or a second link to a directory already read
      visited.add(real);
      // Sorted, so that when two paths lead to one directory the same one is read every time.
      entries = (await readdir(current, { withFileTypes: true })).sort(byName);
      notes.walked?.add(rel(current));
    } catch (err) {
      unreadable(current === dir ? '' : `${rel(current)}/`, err);
      return;
    }
    const wanted = entries.filter(
      (e) =>
        !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink() || (e.isFile() && isManifestName(e.name))),
    ); // FIFOs, sockets, devices and other names are not manifests
    // Files are stat'ed and read a batch at a time: one at a time, a thousand files waited on the
    // thread pool for a quarter of a second at startup. Directories are still walked in order.
    for (let i = 0; i < wanted.length; i += READ_BATCH) {
      const chunk = wanted.slice(i, i + READ_BATCH);
      const batch = chunk.map((e) => path.join(current, e.name));
      const targets = await Promise.all(batch.map((full) => stat(full).catch(() => undefined))); // dangling links skipped
      chunk.forEach((e, k) => {
        if (readsThroughLink(e.name, e.isSymbolicLink(), targets[k])) notes.links?.add(rel(batch[k] as string));
      });
      await Promise.all(
        batch.map((full, k) =>
          targets[k]?.isFile() === true && isManifestName(path.basename(full))
            ? readOne(full, targets[k].size)
            : undefined,
        ),
      );
      for (const [k, full] of batch.entries()) if (targets[k]?.isDirectory() === true) await walk(full);
    }
  }
  await walk(dir);
  return files.sort(byPath);
}

/** Reads, parses and checks every manifest under dir, as the running loop would (the natives policy included). */
export async function loadManifestDir(dir: string, opts: { allowUnsafeNatives?: boolean } = {}): Promise<ManifestSet> {
  const parsed = applyNativesPolicy(parseManifestFiles(await readManifestDir(dir)), opts.allowUnsafeNatives === true);
  const set = checkManifestSet(parsed.manifests);
  return { ...set, issues: sortIssues([...parsed.issues, ...set.issues]) };
}
