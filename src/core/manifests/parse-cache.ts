// Parse results by file, reused while a file's text is unchanged: YAML parsing
// dominates reading a large manifest set, and most reads change one file.
//
// A file that held objects and reads empty now is taken for one being
// written in place (truncated, then written: nano, `>`, many tools): its
// last parse stands until it has content again or is removed. Otherwise a
// read in that instant would take every object of the file away from
// HAProxy. Deleting the file is how its objects are deleted.
import type { Issue } from '../issues.js';
import { parseManifestFile, type LocatedManifest, type ManifestFile } from './manifests.js';

interface Entry {
  text: string;
  unreadable: string | undefined;
  manifests: LocatedManifest[];
  issues: Issue[];
}

export class ParseCache {
  private entries = new Map<string, Entry>();

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
          : { text: file.text, unreadable: file.unreadable, ...parseManifestFile(file) };
      next.set(file.path, entry);
      manifests.push(...entry.manifests);
      issues.push(...entry.issues);
    }
    this.entries = next;
    return { manifests, issues, held };
  }
}
