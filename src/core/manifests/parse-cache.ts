// Parse results by file, reused while a file's text is unchanged: YAML parsing
// dominates reading a large manifest set, and most reads change one file.
//
// A file that held objects and reads empty now is taken for one being
// written in place (truncated, then written: nano, `>`, many tools): its
// last parse stands until it has content again or is removed. Otherwise a
// read in that instant would take every object of the file away from
// HAProxy. Deleting the file is how its objects are deleted.
//
// The results also outlive the process (stored()/seed): a restart that finds
// a file with the same text (by hash) skips its YAML parse, which is most of
// a cold start at 10k servers. A stored object is validated again before it
// is used, so a stored entry can only save work, never let in an object the
// schemas would refuse.
import { sha256 } from '../hash.js';
import type { Issue } from '../issues.js';
import {
  parseManifestFile,
  revalidated,
  type LocatedManifest,
  type ManifestFile,
  type StoredManifest,
} from './manifests.js';

interface Entry {
  text: string;
  unreadable: string | undefined;
  manifests: LocatedManifest[];
  issues: Issue[];
}

/** A stored entry's objects, validated again; undefined when it is not what this version writes (parse instead). */
function storedObjects(text: string, stored: StoredParse): LocatedManifest[] | undefined {
  try {
    return Array.isArray(stored.manifests) && Array.isArray(stored.issues)
      ? revalidated(text, stored.manifests)
      : undefined;
  } catch {
    return undefined; // a hand-edited store with the right key but the wrong shape
  }
}

/** One file's parse as kept between runs of the process: by path and the hash of its text. */
export interface StoredParse {
  path: string;
  hash: string;
  manifests: StoredManifest[];
  issues: Issue[];
}

export class ParseCache {
  private entries = new Map<string, Entry>();
  private seeded = new Map<string, StoredParse>();
  /** Whether a file was parsed since the last stored(): what is kept on disk is behind. */
  private parsedSinceStored = false;

  /** Parses kept from an earlier process, used for files whose text still has the same hash. */
  seed(stored: readonly StoredParse[]): void {
    this.seeded = new Map(stored.map((s) => [s.path, s]));
  }

  /** Whether stored() would differ from what was last taken. */
  get changed(): boolean {
    return this.parsedSinceStored;
  }

  /** Every readable file's parse, to keep for the next process. */
  stored(): StoredParse[] {
    this.parsedSinceStored = false;
    const out: StoredParse[] = [];
    for (const [path, e] of this.entries) {
      if (e.unreadable !== undefined) continue;
      const manifests = e.manifests.map((m) => ({ manifest: m.manifest, source: m.source }));
      out.push({ path, hash: sha256(e.text), manifests, issues: e.issues });
    }
    return out;
  }

  /**
   * Parses every file (from the cache when its text is unchanged); files no
   * longer given are forgotten. `held` names the emptied files whose last
   * parse still stands.
   */
  parse(files: readonly ManifestFile[]): { manifests: LocatedManifest[]; issues: Issue[]; held: string[] } {
    const next = new Map<string, Entry>();
    const manifests: LocatedManifest[] = [];
    const issues: Issue[] = [];
    const held: string[] = [];
    for (const file of files) {
      const cached = this.entries.get(file.path);
      const emptied = file.unreadable === undefined && file.text.trim() === '' && (cached?.manifests.length ?? 0) > 0;
      if (emptied) held.push(file.path);
      const entry =
        emptied || (cached !== undefined && cached.text === file.text && cached.unreadable === file.unreadable)
          ? (cached as Entry)
          : this.fresh(file);
      next.set(file.path, entry);
      manifests.push(...entry.manifests);
      issues.push(...entry.issues);
    }
    this.entries = next;
    this.seeded.clear();
    return { manifests, issues, held };
  }

  /** A file not in memory: from the seed when its text is the one stored, otherwise parsed. */
  private fresh(file: ManifestFile): Entry {
    const stored = file.unreadable === undefined ? this.seeded.get(file.path) : undefined;
    if (stored !== undefined && stored.hash === sha256(file.text)) {
      const manifests = storedObjects(file.text, stored);
      if (manifests !== undefined) return { text: file.text, unreadable: undefined, manifests, issues: stored.issues };
    }
    this.parsedSinceStored = true;
    return { text: file.text, unreadable: file.unreadable, ...parseManifestFile(file) };
  }
}
