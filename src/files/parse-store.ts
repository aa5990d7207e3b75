// The parse cache kept between processes: <stateDir>/parse-cache.json, for
// the Aqueduct version and schemas that wrote it. Writes are deferred past
// the end of the run and coalesced so the loop never waits for them, and a
// missing, stale or broken file only means parsing again.
import path from 'node:path';
import type { StoredParse } from '../core/manifests/parse-cache.js';
import { readJson, writeJsonAtomic } from './atomic.js';

export interface ParseStore {
  load(): Promise<StoredParse[]>;
  /** Keeps what `snapshot` returns, once the run that parsed has ended (runEnded). */
  save(snapshot: () => StoredParse[]): void;
  /**
   * A loop run ended: a pending save is written a little later, so the write
   * (hashing and serialising every file's objects) never competes with a run
   * on its way to HAProxy, the first one at a cold start above all.
   */
  runEnded(): void;
  /** Writes what is pending now (on stop). */
  flush(): Promise<void>;
}

interface StoredFile {
  key: string;
  files: StoredParse[];
}

/** `key` names what wrote the file (version and schemas); a file with another key is ignored. */
export function fileParseStore(
  stateDir: string,
  key: string,
  opts: { delayMs: number; onError: (err: unknown) => void },
): ParseStore {
  const file = path.join(stateDir, 'parse-cache.json');
  let pending: (() => StoredParse[]) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const snapshot = pending;
    pending = undefined;
    if (snapshot !== undefined) await writeJsonAtomic(file, { key, files: snapshot() } satisfies StoredFile);
  };
  return {
    load: async () => {
      const stored = await readJson<StoredFile>(file).catch(() => undefined);
      return stored?.key === key && Array.isArray(stored.files) ? stored.files : [];
    },
    save: (snapshot) => {
      pending = snapshot;
    },
    runEnded: () => {
      // A timer that does not keep the process alive: a stop flushes what is pending.
      if (pending !== undefined) timer ??= setTimeout(() => void flush().catch(opts.onError), opts.delayMs).unref();
    },
    flush: () => flush().catch(opts.onError),
  };
}
