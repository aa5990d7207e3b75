// The loop's read of the manifest directory, in proportion to what changed:
// the paths the watcher (or the API, for its own writes) names are read
// again, and every file listed through a link (no event names what a link
// reads: a ConfigMap's files are links through its "..data"); the rest keep
// the text of the last read. A path that turns out to lead to a directory,
// one outside the directories walked, and an event that names no path (a
// directory's, the watcher's first scan, an error) make the next read a whole
// one, and so does every periodic resync: a missed event costs at most one
// resync interval, as it did when every run read everything. Hidden names
// are never read (see readManifestDir), so their events change nothing; an
// editor's or git's temporary file next to a manifest costs one stat.
//
// The result is always what readManifestDir would return at that moment
// for the paths read, in its order (a test compares them over random edits).
import path from 'node:path';
import type { ManifestFile } from '../core/manifests/manifests.js';
import { byPath, READ_BATCH, readManifestDir, readManifestPath } from './manifest-dir.js';

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
   * directory), or, without one, anything at all. Takes effect at the next
   * read; false when no read can differ for it (a hidden name, with no link
   * that could read through one), so nobody needs to read.
   */
  changed(file?: string): boolean {
    const relPath = file === undefined ? undefined : this.placed(file);
    if (relPath === undefined) this.whole = true;
    else if (relPath !== null) this.dirty.add(relPath);
    return relPath !== null || this.links.size > 0;
  }

  /** The manifest files as they are now: the changed ones read again, or all of them. */
  async read(): Promise<ManifestFile[]> {
    const known = this.files;
    const dirty = [...new Set([...this.dirty, ...this.links])];
    this.dirty = new Set();
    // A path walked as a directory is a link to one that may have gone: only a walk can tell. And a walk
    // reads a file in fewer steps than a path read alone: when half of them are to be read (every
    // file of a ConfigMap is a link), walking is cheaper.
    if (
      known === undefined ||
      this.whole ||
      this.holdsUnreadableDirectory(known) ||
      dirty.some((p) => this.walked.has(p)) ||
      dirty.length * 2 > known.size
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
    return [...known.values()].sort(byPath);
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

  /**
   * The path as a whole read would list it, when one path can be read again
   * alone; null when nothing a read lists can have changed (a hidden name: a
   * walk never enters one, and what visible links reach through it is read
   * again at every read); undefined when only a walk can tell.
   */
  private placed(file: string): string | null | undefined {
    const relative = path.relative(this.root, path.resolve(this.root, file));
    const parts = relative.split(path.sep);
    if (relative === '' || parts[0] === '..' || path.isAbsolute(relative)) return undefined;
    if (parts.some((p) => p.startsWith('.'))) return null;
    return this.walked.has(parts.slice(0, -1).join('/')) ? parts.join('/') : undefined;
  }
}
