// HAProxy's config file and the state that says what was applied: the
// reconciler's ConfigStore on disk. The file is replaced atomically; the
// last applied generations are kept beside it, one file each.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../core/hash.js';
import { readJson, readTextIfExists, writeFileAtomic, writeJsonAtomic } from '../files/atomic.js';
import type { AppliedRecord, ConfigStore } from '../core/config-store.js';
import { installRouteMaps } from './route-map-files.js';
import { routeMapDir } from '../core/rendering/route-maps.js';

/** The last N applied configs, newest last, as files "<seq>-<hash>.cfg" in a directory. */
class Generations {
  constructor(
    readonly dir: string,
    readonly keep: number,
  ) {}

  async list(): Promise<{ seq: number; file: string }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((n) => ({ seq: Number(/^(\d+)-[0-9a-f]+\.cfg$/.exec(n)?.[1] ?? NaN), file: path.join(this.dir, n) }))
      .filter((g) => Number.isInteger(g.seq))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The last number handed out; read from the directory once. */
  private last: number | undefined;

  /**
   * The next generation number, handed out at once: a runtime apply names its
   * generation in the ledger when it applies, while its file is written later.
   */
  async allocate(): Promise<number> {
    if (this.last === undefined) this.last = (await this.list()).at(-1)?.seq ?? 0;
    return ++this.last;
  }

  /** Writes the config of an allocated generation, and forgets the oldest beyond the number kept. */
  async write(seq: number, text: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(
      path.join(this.dir, `${String(seq).padStart(8, '0')}-${sha256(text).slice(0, 12)}.cfg`),
      text,
    );
    const all = await this.list();
    for (const old of all.slice(0, Math.max(0, all.length - this.keep))) await rm(old.file, { force: true });
  }

  /** Records an applied config; returns its generation number. */
  async record(text: string): Promise<number> {
    const seq = await this.allocate();
    await this.write(seq, text);
    return seq;
  }

  /** The config of one generation, while it is kept. */
  async read(seq: number): Promise<string | undefined> {
    const found = (await this.list()).find((g) => g.seq === seq);
    return found === undefined ? undefined : readFile(found.file, 'utf8').catch(() => undefined);
  }
}

/**
 * The config at cfgPath with its routing maps in <cfgPath>.maps, what was
 * applied in stateDir/applied.json, generations in stateDir/generations.
 */
export function fileConfigStore(cfgPath: string, stateDir: string, keepGenerations: number): ConfigStore {
  const mapDir = routeMapDir(cfgPath);
  const appliedFile = path.join(stateDir, 'applied.json');
  const generations = new Generations(path.join(stateDir, 'generations'), keepGenerations);
  return {
    where: { config: cfgPath, state: stateDir },
    installed: () => readTextIfExists(cfgPath),
    // The maps first: a config is never on disk without the maps it reads.
    install: async (text) => {
      await installRouteMaps(text, mapDir);
      await writeFileAtomic(cfgPath, text);
    },
    loadApplied: () => readJson<AppliedRecord>(appliedFile),
    saveApplied: (record) => writeJsonAtomic(appliedFile, record),
    generations,
  };
}
