// Watches the manifest directory. Events mark the work dirty and say which
// file changed, so the loop reads that file again (manifest-reader.ts); an
// event that names no file (a directory, the watcher's first scan, an error)
// says "anything may have".
// Hidden paths are watched too: a Kubernetes ConfigMap update only swaps the
// "..data" symlink, and the visible files never change themselves.
//
// Symlinks are watched as links, never followed by chokidar: two links to
// the directory itself would make it walk without end. The directories the
// reader reached through links are added by their real paths instead (each
// once, so loops end). When the directory itself goes away the watcher
// waits for it to come back and starts again.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { every, type Clock } from '../clock.js';

export interface Watcher {
  /**
   * Also watch the real directories a read reached; the first is the real
   * path of the directory itself (see readManifestDir), whose tree is
   * watched already.
   */
  follow(realDirs: Iterable<string>): void;
  close(): Promise<void>;
}

/** How often a vanished directory is looked for. */
const REARM_POLL_MS = 500;
/**
 * chokidar drops a second "change" of one path within 50 ms, so a quick
 * second edit could go unseen until the resync: look again this long after
 * the last event.
 */
const SETTLE_MS = 60;

/** chokidar's events that are about one file (the rest are about directories). */
const FILE_EVENTS: ReadonlySet<string> = new Set(['add', 'change', 'unlink']);

export interface WatchHandlers {
  /**
   * Something changed: 'watch' at each event, 'watch-settle' once the events
   * stopped for a moment (with every file of the burst again). `files` are
   * absolute paths; undefined when the change is not one file's.
   */
  onChange(trigger: 'watch' | 'watch-settle', files: readonly string[] | undefined): void;
  onError(err: unknown): void;
  clock: Clock;
}

/**
 * The path a raw fs.watch event is about: a child of a watched directory, or
 * a watched file itself (its event names its own base name; a directory with
 * a child of its own name is read whole then, which is only slower).
 */
function rawPath(name: string, details: unknown): string | undefined {
  const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
  if (typeof watched !== 'string' || typeof name !== 'string' || name === '') return undefined;
  return path.basename(watched) === name ? path.resolve(watched) : path.resolve(watched, name);
}

/**
 * Passes each event on at once, and once the events stopped for SETTLE_MS,
 * every file of the burst again (undefined once one event named no file).
 * Returns the event handler and what cancels a settle still due.
 */
function settling(handlers: WatchHandlers): { onChange: (file?: string) => void; cancel: () => void } {
  let cancelSettle: (() => void) | undefined;
  let burst: Set<string> | undefined = new Set();
  const onChange = (file?: string): void => {
    if (file === undefined) burst = undefined;
    else burst?.add(file);
    handlers.onChange('watch', file === undefined ? undefined : [file]);
    cancelSettle?.();
    cancelSettle = handlers.clock.after(SETTLE_MS, () => {
      const files = burst === undefined ? undefined : [...burst];
      burst = new Set();
      handlers.onChange('watch-settle', files);
    });
  };
  return { onChange, cancel: () => cancelSettle?.() };
}

export function watchManifestDir(dir: string, handlers: WatchHandlers): Watcher {
  const { onError, clock } = handlers;
  const { onChange, cancel: cancelSettle } = settling(handlers);
  const root = path.resolve(dir);
  const followed = new Set<string>();
  let closed = false;
  let poll: (() => void) | undefined; // stops the look for a vanished directory
  let current: FSWatcher;

  const start = (): FSWatcher => {
    // atomic: false: chokidar would otherwise hold events around a rename for 100 ms to report
    // "change" instead of "unlink"+"add"; the event type does not matter here, its latency does.
    const w = watch(root, { ignoreInitial: true, followSymlinks: false, persistent: true, atomic: false });
    w.on('all', (event, p) => {
      onChange(FILE_EVENTS.has(event) ? path.resolve(root, p) : undefined);
      if (event === 'unlinkDir' && path.resolve(p) === root) lost();
    });
    // chokidar drops a second "change" of one path within 50 ms (an editor saving twice, a writer
    // renaming a new version over it each time); fs.watch's own events, which it passes on as "raw",
    // are not dropped, so a quick second edit is read at once instead of at the settle.
    w.on('raw', (_event, name, details) => {
      const file = rawPath(name, details);
      if (file !== undefined) onChange(file);
    });
    // Whatever changed before chokidar's first scan ended made no event (it was
    // started after a read, or after the directory came back): read again.
    w.on('ready', () => onChange());
    w.on('error', (err) => {
      onChange();
      onError(err);
      void stat(root).catch(() => lost());
    });
    return w;
  };

  const lost = (): void => {
    if (closed || poll !== undefined) return;
    void current.close();
    followed.clear();
    poll = every(clock, REARM_POLL_MS, () => {
      void stat(root).then(
        (s) => {
          if (!s.isDirectory() || closed || poll === undefined) return;
          poll();
          poll = undefined;
          current = start();
        },
        () => undefined,
      );
    });
  };

  current = start();
  return {
    follow(realDirs) {
      let realRoot: string | undefined;
      const inside = (d: string, r: string) => d === r || d.startsWith(`${r}${path.sep}`);
      for (const d of realDirs) {
        realRoot ??= d;
        if (inside(d, root) || inside(d, realRoot) || followed.has(d)) continue;
        followed.add(d);
        current.add(d);
      }
    },
    close: async () => {
      closed = true;
      cancelSettle();
      poll?.();
      await current.close();
    },
  };
}
