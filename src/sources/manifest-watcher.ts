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
  const watcher = watch(dir, { ignoreInitial: true, followSymlinks: true, persistent: true });
  watcher.on('all', (event, path) => onChange(event, path));
  watcher.on('error', onError);
  return { close: () => watcher.close() };
}
