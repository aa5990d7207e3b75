// Where HAProxy finds each certificate and each frontend's crt-list, and
// what a crt-list says. Pure: paths are built from the state directory's
// tls folder, which the caller names.
//
// A certificate's file keeps its path for life: HAProxy's runtime API
// replaces a loaded certificate by that path (`set ssl cert <path>`), which
// is how a renewal is served without a reload. A crt-list's path carries a
// hash of its lines instead: a frontend whose certificates change gets a new
// path, hence a new config, hence a checked reload, and a file HAProxy may
// still load (the last good config) is never rewritten under it.
import { createHash } from 'node:crypto';
import path from 'node:path';

export const certificatePath = (tlsDir: string, certificate: string): string =>
  path.join(tlsDir, 'certs', `${certificate}.pem`);

/** The crt-list's lines: the default certificate first (HAProxy serves the first to clients without SNI). */
export function crtListText(tlsDir: string, certificates: readonly string[]): string {
  return certificates.map((c) => `${certificatePath(tlsDir, c)}\n`).join('');
}

export function crtListPath(tlsDir: string, frontend: string, certificates: readonly string[]): string {
  const hash = createHash('sha256').update(crtListText(tlsDir, certificates)).digest('hex').slice(0, 12);
  return path.join(tlsDir, 'lists', `${frontend}.${hash}.crt-list`);
}

/** Every file the frontends' TLS needs besides the certificates: crt-list path → text. */
export function crtLists(
  tlsDir: string,
  frontends: readonly { name: string; tls?: { certificates: readonly string[] } }[],
): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of frontends)
    if (f.tls !== undefined)
      files.set(crtListPath(tlsDir, f.name, f.tls.certificates), crtListText(tlsDir, f.tls.certificates));
  return files;
}
