// Reads the manifest files of a directory tree. The only part of loading that
// touches the file system; parsing and validation are in core/manifests.ts.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadManifestSet, type ManifestFile, type ManifestSet } from '../core/manifests.js';

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

/** Every *.yaml / *.yml under dir, recursively, following symlinks, sorted by relative path. */
export async function readManifestDir(dir: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const visited = new Set<string>();
  async function walk(current: string): Promise<void> {
    const real = await realpath(current);
    if (visited.has(real)) return; // a symlink loop, or a second link to a directory already read
    visited.add(real);
    // Sorted, so that when two paths lead to one directory the same one is read every time.
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined); // a dangling link is skipped
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await walk(full);
      else if (isFile && isManifestName(entry.name)) {
        const text = await readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
          // A writer may replace the file between readdir and read; the next reconcile sees the new one.
          if (err.code === 'ENOENT') return undefined;
          throw err;
        });
        if (text !== undefined) files.push({ path: path.relative(dir, full).split(path.sep).join('/'), text });
      }
    }
  }
  await walk(dir);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Reads, parses and checks every manifest under dir. */
export async function loadManifestDir(dir: string): Promise<ManifestSet> {
  return loadManifestSet(await readManifestDir(dir));
}
