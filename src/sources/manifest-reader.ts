// The loop's read of the manifest directory, in proportion to what changed:
// the files the watcher (or the API, for its own writes) names are read
// again, the rest keep the text of the last read. Anything a path alone
// cannot place (a directory, a hidden name such as a ConfigMap's "..data"
// swap, a name that is no manifest, a path reached through a link, an
// event the watcher could not name) makes the next read a whole one, and so
// does every periodic resync: a missed event costs at most one resync
// interval, as it did when every run read everything.
//
// The result is always what readManifestDir would return at that moment
// for the paths read, in its order (a test compares them over random edits).
import path from 'node:path';
import type { ManifestFile } from '../core/manifests/manifests.js';
import { isManifestName, READ_BATCH, readManifestDir, readManifestPath } from './manifest-dir.js';

export class ManifestReader {
  private files: Map<string, ManifestFile> | undefined;
  /** Directories the last whole read walked, by the relative path its files are listed under. */
  private readonly walked = new Set<string>();
  /** Paths that are links to files (or to nothing yet): read again every time, since no event names them. */
  private readonly links = new Set<string>();
  private dirty = new Set<string>();
  private whole = true;
  private readonly root: string;

  /** `realDirs` collects, at each whole read, the real directories read (the watcher follows them). */
  constructor(
    private readonly dir: string,
    private readonly realDirs?: Set<string>,
  ) {
    this.root = path.resolve(dir);
  }

  /**
   * Something changed: a file at this path (absolute, or relative to the
   * directory), or, without one, anything at all. Takes effect at the next read.
   */
  changed(file?: string): void {
    const relPath = file === undefined ? undefined : this.placed(file);
    if (relPath === undefined) this.whole = true;
    else this.dirty.add(relPath);
  }

  /** The manifest files as they are now: the changed ones read again, or all of them. */
  async read(): Promise<ManifestFile[]> {
    const known = this.files;
    const dirty = [...new Set([...this.dirty, ...this.links])];
    this.dirty = new Set();
    // A path walked as a directory is a link to one that may have gone: only a walk can tell.
    if (
      known === undefined ||
      this.whole ||
      this.holdsUnreadableDirectory(known) ||
      dirty.some((p) => this.walked.has(p))
    )
      return this.readWhole();
    for (let i = 0; i < dirty.length; i += READ_BATCH) {
      const batch = dirty.slice(i, i + READ_BATCH);
      const entries = await Promise.all(batch.map((p) => readManifestPath(this.dir, p)));
      // A link to a directory came: only a walk lists it.
      if (entries.some((e) => e.entry === 'directory')) return this.readWhole();
      batch.forEach((p, k) => {
        const { entry, link } = entries[k] ?? { entry: undefined, link: false };
        if (link) this.links.add(p);
        else this.links.delete(p);
        if (entry === undefined || entry === 'directory') known.delete(p);
        else known.set(p, entry);
      });
    }
    return [...known.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async readWhole(): Promise<ManifestFile[]> {
    this.whole = false;
    this.dirty.clear();
    const files = await readManifestDir(this.dir, { realDirs: this.realDirs, walked: this.walked, links: this.links });
    this.files = new Map(files.map((f) => [f.path, f]));
    return files;
  }

  /** A directory that could not be read: only a walk can tell when it can be. */
  private holdsUnreadableDirectory(known: Map<string, ManifestFile>): boolean {
    for (const f of known.values())
      if (f.unreadable !== undefined && (f.path === '' || f.path.endsWith('/'))) return true;
    return false;
  }

  /** The path as a whole read would list it, when one path can be read again alone; undefined otherwise. */
  private placed(file: string): string | undefined {
    const relative = path.relative(this.root, path.resolve(this.root, file));
    const parts = relative.split(path.sep);
    if (relative === '' || parts[0] === '..' || path.isAbsolute(relative)) return undefined;
    if (parts.some((p) => p.startsWith('.')) || !isManifestName(parts[parts.length - 1] ?? '')) return undefined;
    const relPath = parts.join('/');
    const parent = parts.slice(0, -1).join('/');
    return this.walked.has(parent) ? relPath : undefined;
  }
}
