// Who may talk to the API, decided from the request alone: the peer's
// address, the Host and Origin headers, the token. Secure by default: writes
// from the network need a token, browsers on other sites can neither write
// nor open the stream (CSRF), and a page that rebinds its DNS name to
// 127.0.0.1 is refused by its Host header.
import { isIP } from 'node:net';
import { authorized, type AuthPolicy } from './auth.js';
import { ApiError } from './errors.js';

export interface AccessPolicy {
  auth: AuthPolicy;
  /** --insecureOpenWrites: writes without a token from any peer. */
  openWrites: boolean;
  /** Origins (scheme://host[:port]) besides the API's own that browsers may write from. */
  allowedOrigins: readonly string[];
  /** Host header names accepted from loopback peers besides loopback names. */
  allowedHosts: readonly string[];
}

export interface RequestFacts {
  method: string;
  /** The URL's path, without the query. */
  path: string;
  peer: string | undefined;
  host: string | undefined;
  origin: string | undefined;
  fetchSite: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  upgrade: boolean;
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
/** POSTs that compute an answer and change nothing (a dry run): guarded as reads, allowed with --readOnly. */
export const READ_ONLY_POSTS = new Set(['/diff']);

/** Whether the request may change something. */
export const isWrite = (method: string, urlPath: string): boolean =>
  WRITE_METHODS.has(method) && !(method === 'POST' && READ_ONLY_POSTS.has(urlPath));

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** The host name of a Host header ("[::1]:10000" → "::1"), lower-cased. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

const isLoopbackName = (name: string): boolean =>
  name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);

/** The origin a browser would send for a page served from this Host ("http://" + host), for the same-origin test. */
const sameOrigin = (origin: string, host: string | undefined): boolean => {
  try {
    const o = new URL(origin);
    return host !== undefined && (o.protocol === 'http:' || o.protocol === 'https:') && o.host === host.toLowerCase();
  } catch {
    return false;
  }
};

/** Throws the ApiError that refuses the request, or returns when it may go on. */
export function checkAccess(policy: AccessPolicy, r: RequestFacts): void {
  const write = isWrite(r.method, r.path);
  const loopbackPeer = isLoopbackAddress(r.peer);
  if (loopbackPeer && r.host !== undefined) {
    const name = hostName(r.host);
    if (!isLoopbackName(name) && !policy.allowedHosts.includes(name))
      throw new ApiError(
        'forbidden_host',
        `Host ${JSON.stringify(r.host)} is not a name of this machine's loopback (a page rebinding its DNS name to 127.0.0.1?); add it with --apiAllowedHosts`,
      );
  }
  const fromBrowser = r.origin !== undefined || r.fetchSite !== undefined;
  if ((write || r.upgrade) && fromBrowser) {
    const allowed =
      r.origin !== undefined
        ? sameOrigin(r.origin, r.host) || policy.allowedOrigins.includes(r.origin)
        : r.fetchSite === 'same-origin' || r.fetchSite === 'none';
    if (!allowed)
      throw new ApiError(
        'forbidden_origin',
        `requests from ${r.origin ?? `a ${r.fetchSite ?? ''} page`} may not ${r.upgrade ? 'open the stream' : 'write'}; allow the origin with --apiAllowedOrigins`,
      );
    const json = (r.contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
    if (write && r.method !== 'DELETE' && !json)
      throw new ApiError('unsupported_media_type', 'a write from a browser must send Content-Type: application/json');
  }
  if (!authorized(policy.auth, write, r.authorization))
    throw new ApiError(
      'unauthorized',
      write
        ? 'writes need Authorization: Bearer <token> with the API token (--apiToken)'
        : 'reads need Authorization: Bearer <token> with the read token (--apiReadToken)',
    );
  const tokenSet = policy.auth.writeToken !== undefined || policy.auth.readToken !== undefined;
  if (write && !tokenSet && !loopbackPeer && !policy.openWrites)
    throw new ApiError(
      'unauthorized',
      `writes from ${r.peer ?? 'the network'} need a token: set --apiToken (AQUEDUCT_API_TOKEN), or accept open writes with --insecureOpenWrites`,
    );
}

/** Nesting deeper than this in a JSON body is refused before it is parsed. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays or objects deeper than `max`. Hand-written
 * because the check must run before anything recursive touches the body: a
 * scan that counts brackets outside strings, in one pass, with no recursion.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** The WebSocket subprotocol a page selects (and the server answers with). */
export const STREAM_PROTOCOL = 'aqueduct';
const TOKEN_PROTOCOL = 'aqueduct.bearer.';

/**
 * A browser cannot set headers on a WebSocket, and a token in the URL ends in
 * logs and history: the page offers it as a subprotocol, "aqueduct.bearer."
 * followed by the token in base64url. Returns it as an Authorization value.
 */
export function bearerFromProtocols(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim());
  const encoded = offered.find((p) => p.startsWith(TOKEN_PROTOCOL))?.slice(TOKEN_PROTOCOL.length);
  if (encoded === undefined || !/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  return `Bearer ${Buffer.from(encoded, 'base64url').toString('utf8')}`;
}
