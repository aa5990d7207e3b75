// Installing the config file: atomically (temp file, fsync, rename, fsync
// the directory), so that no reader, and no crash at any moment, ever sees a
// partial file. The last applied generations are kept beside it.
import { createHash } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Writes text to a temporary file beside `file`, synced; removes it again if anything fails (a full disk leaves no debris). */
async function writeTemp(file: string, text: string): Promise<string> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(tmp, 'w', 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return tmp;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Writes text to file atomically. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = await writeTemp(file, text);
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

/**
 * Creates file with text, atomically, only if no file of that name exists:
 * a hard link fails where rename would replace. False when it existed.
 */
export async function createFileAtomic(file: string, text: string): Promise<boolean> {
  const tmp = await writeTemp(file, text);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(path.dirname(file));
  return true;
}

export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The last N applied configs, newest last, as files "<seq>-<hash>.cfg" in a directory. */
export class Generations {
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

  async latest(): Promise<string | undefined> {
    const all = await this.list();
    const last = all[all.length - 1];
    return last === undefined ? undefined : readFile(last.file, 'utf8');
  }
}

/** Small JSON state that must survive restarts (what was applied last). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // written atomically, so only a foreign edit gets here: start over
  }
}
