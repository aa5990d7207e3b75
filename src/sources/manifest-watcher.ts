// Watches the manifest directory. Events only mark the work dirty: the
// reconcile reads the whole directory anyway, so what changed does not matter.
// Hidden paths are watched too: a Kubernetes ConfigMap update only swaps the
// "..data" symlink, and the visible files never change themselves.
import { watch } from 'chokidar';

export interface Watcher {
  close(): Promise<void>;
}

export function watchManifestDir(
  dir: string,
  onChange: (event: string, path: string) => void,
  onError: (err: unknown) => void,
): Watcher {
  // atomic: false: chokidar would otherwise hold events around a rename for 100 ms to report
  // "change" instead of "unlink"+"add"; the event type does not matter here, its latency does.
  const watcher = watch(dir, { ignoreInitial: true, followSymlinks: true, persistent: true, atomic: false });
  watcher.on('all', (event, path) => onChange(event, path));
  watcher.on('error', onError);
  return { close: () => watcher.close() };
}
