// The API's access to the manifests directory: reads it as the loop does,
// and writes one object per file, atomically, one write at a time. The
// directory is the source of truth; nothing here keeps objects in memory
// beyond the parse cache.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { objectId } from '../core/manifests/api-objects.js';
import type { Issue } from '../core/issues.js';
import type { LocatedManifest, ManifestFile } from '../core/manifests/manifests.js';
import type { Kind, Manifest } from '../core/manifests/model.js';
import { ParseCache } from '../core/manifests/parse-cache.js';
import { createFileAtomic, writeFileAtomic } from '../files/atomic.js';
import { readManifestDir } from './manifest-dir.js';

/** One read of the directory. */
export interface ManifestView {
  files: readonly ManifestFile[];
  /** Schema-valid objects. */
  manifests: readonly LocatedManifest[];
  /** YAML and schema problems (cross-object checks come later). */
  issues: readonly Issue[];
}

/** The path the API writes an object to, relative to the manifests directory. */
export const canonicalFile = (kind: Kind, name: string): string => `${kind.toLowerCase()}s/${name}.yaml`;

export function findObject(view: ManifestView, kind: Kind, name: string): LocatedManifest | undefined {
  return view.manifests.find((m) => m.manifest.kind === kind && m.manifest.metadata.name === name);
}

/**
 * Whether an object of this kind and name exists in any form: declared
 * validly, named by a document that does not validate, or its canonical file
 * present whatever it holds (even unparseable).
 */
export function existsInAnyForm(view: ManifestView, kind: Kind, name: string): boolean {
  return (
    findObject(view, kind, name) !== undefined ||
    view.issues.some((i) => i.kind === kind && i.name === name) ||
    view.files.some((f) => f.path === canonicalFile(kind, name))
  );
}

/**
 * Another object of this kind whose name differs from `name` only in case,
 * or whose file does: on a case-insensitive file system (macOS, Windows,
 * some volumes) `frontends/Web.yaml` is `frontends/web.yaml`, so writing one
 * would replace the other.
 */
export function caseTwin(view: ManifestView, kind: Kind, name: string): string | undefined {
  const lower = name.toLowerCase();
  const twin = view.manifests.find(
    (m) =>
      m.manifest.kind === kind && m.manifest.metadata.name !== name && m.manifest.metadata.name.toLowerCase() === lower,
  );
  if (twin !== undefined) return `${objectId(kind, twin.manifest.metadata.name)} in ${twin.source.file}`;
  const file = canonicalFile(kind, name);
  const twinFile = view.files.find((f) => f.path !== file && f.path.toLowerCase() === file.toLowerCase());
  return twinFile === undefined ? undefined : twinFile.path;
}

/** How many documents a file holds, valid or not: a file with others in it is not the API's to rewrite. */
export function documentsIn(view: ManifestView, file: string): number {
  let max = 0;
  for (const m of view.manifests) if (m.source.file === file) max = Math.max(max, m.source.document);
  for (const i of view.issues) if (i.file === file) max = Math.max(max, i.document ?? 1);
  return max;
}

/** The manifest as the API writes it: the same YAML a person would write, defaults included. */
export function manifestYaml(manifest: Manifest): string {
  return `# ${objectId(manifest.kind, manifest.metadata.name)}: written through the Aqueduct REST API; editing it by hand is fine too.\n${stringify(
    manifest,
    {
      lineWidth: 0,
    },
  )}`;
}

/** A view older than this is read again even if no change was seen (a missed watcher event costs at most this). */
const MAX_VIEW_AGE_MS = 1000;

export class ManifestStore {
  private readonly cache = new ParseCache();
  private tail: Promise<unknown> = Promise.resolve();
  /** Bumped whenever the directory may have changed: a read started before must not be handed out after. */
  private epoch = 0;
  private current: { view: ManifestView; epoch: number; at: number } | undefined;
  private reading: { view: Promise<ManifestView>; epoch: number } | undefined;

  /** `written` hears the absolute path of every file this store writes or removes. */
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
    private readonly written: (file: string) => void = () => undefined,
  ) {}

  /**
   * The directory as it is: one read shared by every request that arrives
   * while it runs, and kept until a change is seen (invalidate) or for at
   * most a second, so a burst of GETs costs one read, not one each.
   * `fresh` reads again whatever is kept (writes check against the disk).
   */
  read(opts: { fresh?: boolean } = {}): Promise<ManifestView> {
    const c = this.current;
    if (!opts.fresh && c !== undefined && c.epoch === this.epoch && this.now() - c.at < MAX_VIEW_AGE_MS)
      return Promise.resolve(c.view);
    if (!opts.fresh && this.reading?.epoch === this.epoch) return this.reading.view;
    const epoch = this.epoch;
    const at = this.now();
    const view = (async () => {
      const files = await readManifestDir(this.dir);
      return { files, ...this.cache.parse(files) };
    })();
    this.reading = { view, epoch };
    void view.then(
      (v) => {
        if (epoch === this.epoch) this.current = { view: v, epoch, at };
        if (this.reading?.view === view) this.reading = undefined;
      },
      () => {
        if (this.reading?.view === view) this.reading = undefined;
      },
    );
    return view;
  }

  /** The directory changed (the watcher saw it, or this store wrote): the next read reads it. */
  invalidate(): void {
    this.epoch++;
    this.current = undefined;
  }

  /**
   * Runs fn alone: writes are read-check-write sequences, and two of them
   * interleaved could both pass an If-Match check and lose an update.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async write(file: string, manifest: Manifest): Promise<void> {
    const [result] = await this.writeMany([{ file, manifest }]);
    if (result?.status === 'rejected') throw result.reason;
  }

  /**
   * Writes several objects at once (a batch of API writes): in parallel, so
   * their fsyncs overlap, and the directory counts as changed once. Settles
   * per file: one that fails does not hold back the others.
   */
  async writeMany(writes: readonly { file: string; manifest: Manifest }[]): Promise<PromiseSettledResult<void>[]> {
    try {
      return await Promise.allSettled(
        writes.map(async (w) => {
          const full = this.resolve(w.file);
          await mkdir(path.dirname(full), { recursive: true });
          try {
            await writeFileAtomic(full, manifestYaml(w.manifest));
          } finally {
            this.written(full);
          }
        }),
      );
    } finally {
      this.invalidate();
    }
  }

  /** Writes a new file only: false, and nothing written, when a file of that name exists in any form. */
  async create(file: string, manifest: Manifest): Promise<boolean> {
    const full = this.resolve(file);
    await mkdir(path.dirname(full), { recursive: true });
    try {
      return await createFileAtomic(full, manifestYaml(manifest));
    } finally {
      this.written(full);
      this.invalidate();
    }
  }

  async remove(file: string): Promise<void> {
    const full = this.resolve(file);
    try {
      await rm(full, { force: true });
    } finally {
      this.written(full);
      this.invalidate();
    }
  }

  /** Absolute path of a file of the directory; refuses anything that would leave it. */
  private resolve(file: string): string {
    const full = path.resolve(this.dir, file);
    if (!full.startsWith(path.resolve(this.dir) + path.sep)) throw new Error(`refusing to write outside ${this.dir}`);
    return full;
  }
}
