// Parse results by file, reused while a file's text is unchanged: YAML parsing
// dominates reading a large manifest set, and most reads change one file.
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

  /** Parses every file (from the cache when its text is unchanged); files no longer given are forgotten. */
  parse(files: readonly ManifestFile[]): { manifests: LocatedManifest[]; issues: Issue[] } {
    const next = new Map<string, Entry>();
    const manifests: LocatedManifest[] = [];
    const issues: Issue[] = [];
    for (const file of files) {
      const cached = this.entries.get(file.path);
      const entry =
        cached !== undefined && cached.text === file.text && cached.unreadable === file.unreadable
          ? cached
          : { text: file.text, unreadable: file.unreadable, ...parseManifestFile(file) };
      next.set(file.path, entry);
      manifests.push(...entry.manifests);
      issues.push(...entry.issues);
    }
    this.entries = next;
    return { manifests, issues };
  }
}
