// Reads what each Certificate names: its certFile and keyFile (a Kubernetes
// TLS Secret mounted as files, renewed in place or by a symlink swap), or
// the pair ACME issued into the state directory. Files are re-read only when
// stat says they changed, so a thousand certificates cost a thousand stats
// per run, not two thousand reads.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CertificateManifest } from '../core/manifests/model.js';
import type { Material } from '../core/tls/certificate-state.js';

/** A PEM chain with a few intermediates is a few KB; anything this large is not one. */
const MAX_PEM_BYTES = 1024 * 1024;

interface Cached {
  key: string;
  text: string;
}

/** Where an issued pair lives in ACME's certificates folder: one layout for the issuer that writes it and the reader. */
export const issuedPair = (dir: string, name: string): { cert: string; key: string } => ({
  cert: path.join(dir, `${name}.crt`),
  key: path.join(dir, `${name}.key`),
});

export interface CertificateSourcesOptions {
  /** Relative certFile and keyFile paths are relative to it. */
  manifestsDir: string;
  /** Where ACME keeps what it issued: <dir>/<name>.crt and .key. */
  acmeDir: string;
  /** Told every path read, so a watcher can follow their directories. */
  onRead?: (files: string[]) => void;
}

export class CertificateSources {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly opts: CertificateSourcesOptions) {}

  /** The absolute paths a certificate reads (for the watcher). */
  paths(m: CertificateManifest): string[] {
    const { certFile, keyFile } = m.spec;
    if (certFile === undefined || keyFile === undefined) return this.acmePaths(m.metadata.name);
    return [this.resolve(certFile), this.resolve(keyFile)];
  }

  async material(m: CertificateManifest): Promise<Material> {
    const files = this.paths(m);
    this.opts.onRead?.(files);
    const [cert, key] = files as [string, string];
    const [certText, keyText] = await Promise.all([this.read(cert), this.read(key)]);
    if (typeof certText === 'string' && typeof keyText === 'string')
      return { kind: 'pair', cert: certText, key: keyText };
    if (m.spec.acme !== undefined && certText instanceof Error && (certText as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'pending', message: 'waiting for its first issuance from the ACME directory' };
    const err = (certText instanceof Error ? certText : keyText) as Error;
    return { kind: 'unreadable', message: err.message };
  }

  private acmePaths(name: string): string[] {
    const pair = issuedPair(this.opts.acmeDir, name);
    return [pair.cert, pair.key];
  }

  private resolve(file: string): string {
    return path.resolve(this.opts.manifestsDir, file);
  }

  /** The file's text, or why it cannot be read (naming the file, never showing its content). */
  private async read(file: string): Promise<string | Error> {
    try {
      // stat follows symlinks: a swapped ..data link shows as a new inode and time.
      const s = await stat(file);
      if (!s.isFile()) return new Error(`${file} is not a file`);
      if (s.size > MAX_PEM_BYTES)
        return new Error(`${file} is ${s.size} bytes, more than a PEM file of ${MAX_PEM_BYTES}`);
      const key = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      const hit = this.cache.get(file);
      if (hit?.key === key) return hit.text;
      const text = await readFile(file, 'utf8');
      this.cache.set(file, { key, text });
      return text;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === 'ENOENT' ? 'does not exist' : e.code === 'EACCES' ? 'cannot be read (permission denied)' : e.message;
      return Object.assign(new Error(`${file} ${why}`), { code: e.code });
    }
  }
}
