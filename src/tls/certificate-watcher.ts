// Watches the directories that hold certificate files, so a renewal is seen
// at once rather than at the next resync. A directory, not the file: a
// Kubernetes Secret volume renews by swapping its ..data symlink, and the
// visible tls.crt never changes itself. Events only ask for a run; the run
// reads what changed (CertificateSources compares stat results).
import path from 'node:path';
import { watch } from 'chokidar';
import type { Clock } from '../clock.js';

/** chokidar drops a second change of one path within 50 ms (a renewal right after another): look again after it. */
const SETTLE_MS = 60;

export interface CertificateWatcher {
  /** Watches the directory of each path (each once). */
  follow(files: Iterable<string>): void;
  close(): Promise<void>;
}

export function watchCertificateFiles(
  onChange: () => void,
  onError: (err: unknown) => void,
  clock: Clock,
): CertificateWatcher {
  // depth 0: the entries of each directory; followSymlinks false: a link is an entry, its swap an event.
  const w = watch([], { ignoreInitial: true, followSymlinks: false, persistent: true, atomic: false, depth: 0 });
  let cancelSettle: (() => void) | undefined;
  w.on('all', () => {
    onChange();
    cancelSettle?.();
    cancelSettle = clock.after(SETTLE_MS, onChange);
  });
  w.on('error', onError);
  const dirs = new Set<string>();
  return {
    follow(files) {
      for (const f of files) {
        const dir = path.dirname(f);
        if (dirs.has(dir)) continue;
        dirs.add(dir);
        w.add(dir);
      }
    },
    close: () => {
      cancelSettle?.();
      return w.close();
    },
  };
}
