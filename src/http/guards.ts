// Who may talk to the API, decided from the request alone: the peer's
// address, the Host and Origin headers, the token. Secure by default: writes
// from the network need a token, browsers on other sites can neither write
// nor open the stream (CSRF), and a page that rebinds its DNS name to
// 127.0.0.1 is refused by its Host header.
import { isIP } from 'node:net';
import { authorized, bearerToken, tokenMatches, type AuthPolicy } from './auth.js';
import { ApiError } from './errors.js';

export interface AccessPolicy {
  auth: AuthPolicy;
  /** --insecureOpenWrites: writes without a token from any peer. */
  openWrites: boolean;
  /** Origins (scheme://host[:port]) besides the API's own that browsers may write from. */
  allowedOrigins: readonly string[];
  /** Host header names accepted without a token besides loopback names, IP addresses and this machine's name. */
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
  /** The connection was opened by HAProxy (see relay-detector.ts); only asked for tokenless loopback writes. */
  relayed?: boolean;
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
/**
 * POSTs that compute an answer and change nothing (a dry run): allowed with
 * --readOnly, but guarded as writes (token, same origin, JSON only), since
 * each costs a render and a diff that any web page could otherwise trigger.
 */
export const READ_ONLY_POSTS = new Set(['/diff']);

/** Whether the request is guarded as a write (token, origin, content type). */
export const isWrite = (method: string): boolean => WRITE_METHODS.has(method);

/** Whether the request may change something (what --readOnly refuses). */
export const changesState = (method: string, urlPath: string): boolean =>
  isWrite(method) && !(method === 'POST' && READ_ONLY_POSTS.has(urlPath));

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

/**
 * A write (or a stream upgrade) a browser sends must come from the server's
 * own origin or an allowed one, and as JSON: a type no page may send
 * cross-site without a CORS preflight, which is never granted. Command-line
 * clients send neither Origin nor Sec-Fetch-Site and pass. Throws the refusal.
 */
export function checkBrowserWrite(
  r: Pick<RequestFacts, 'method' | 'origin' | 'fetchSite' | 'host' | 'contentType' | 'upgrade'>,
  allowedOrigins: readonly string[] = [],
): void {
  if (r.origin === undefined && r.fetchSite === undefined) return;
  const allowed =
    r.origin !== undefined
      ? sameOrigin(r.origin, r.host) || allowedOrigins.includes(r.origin)
      : r.fetchSite === 'same-origin' || r.fetchSite === 'none';
  if (!allowed)
    throw new ApiError(
      'forbidden_origin',
      `requests from ${r.origin ?? `a ${r.fetchSite ?? ''} page`} may not ${r.upgrade ? 'open the stream' : 'write'}; allow the origin with --apiAllowedOrigins`,
    );
  if (!r.upgrade && r.method !== 'DELETE' && !isJson(r.contentType))
    throw new ApiError('unsupported_media_type', 'a write from a browser must send Content-Type: application/json');
}

const isJson = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';

/** Whether the request carries a token this API knows (either one). */
function carriesToken(auth: AuthPolicy, header: string | undefined): boolean {
  const token = bearerToken(header);
  return [auth.writeToken, auth.readToken].some((t) => t !== undefined && tokenMatches(token, t));
}

/**
 * A page can rebind its own DNS name to this machine (127.0.0.1 or its LAN
 * address), so that the browser takes its requests as same-origin: a request
 * without a token must name this machine in Host (a loopback name, an IP
 * address, the machine's own name) or a name in --apiAllowedHosts.
 */
function checkHost(policy: AccessPolicy, host: string | undefined): void {
  if (host === undefined) return;
  const name = hostName(host);
  if (isLoopbackName(name) || isIP(name) !== 0 || policy.allowedHosts.includes(name)) return;
  throw new ApiError(
    'forbidden_host',
    `Host ${JSON.stringify(host)} is not a name of this machine (a page rebinding its DNS name to it?); send the API token, or add the name with --apiAllowedHosts`,
  );
}

/** The first value of a request header (Node gives repeated ones as an array). */
export function firstHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether a write's fate rests on loopback trust: no token is configured,
 * open writes are off, and the peer is loopback. Only then does it matter
 * whether HAProxy relayed the connection (RequestFacts.relayed).
 */
export function loopbackTrustDecides(policy: AccessPolicy, method: string, peer: string | undefined): boolean {
  return isWrite(method) && !policy.openWrites && !tokenConfigured(policy.auth) && isLoopbackAddress(peer);
}

const tokenConfigured = (auth: AuthPolicy): boolean => auth.writeToken !== undefined || auth.readToken !== undefined;

/** Throws the ApiError that refuses the request, or returns when it may go on. */
export function checkAccess(policy: AccessPolicy, r: RequestFacts): void {
  const write = isWrite(r.method);
  if (!carriesToken(policy.auth, r.authorization)) checkHost(policy, r.host);
  if (write || r.upgrade) checkBrowserWrite(r, policy.allowedOrigins);
  if (write && READ_ONLY_POSTS.has(r.path) && !isJson(r.contentType))
    throw new ApiError('unsupported_media_type', `POST ${r.path} takes Content-Type: application/json`);
  if (!authorized(policy.auth, write, r.authorization))
    throw new ApiError(
      'unauthorized',
      write
        ? 'writes need Authorization: Bearer <token> with the API token (--apiToken)'
        : 'reads need Authorization: Bearer <token> with the read token (--apiReadToken)',
    );
  if (!write || policy.openWrites || tokenConfigured(policy.auth)) return;
  if (!isLoopbackAddress(r.peer))
    throw new ApiError(
      'unauthorized',
      `writes from ${r.peer ?? 'the network'} need a token: set --apiToken (AQUEDUCT_API_TOKEN), or accept open writes with --insecureOpenWrites`,
    );
  if (r.relayed === true)
    throw new ApiError(
      'unauthorized',
      "this write reached the API through Aqueduct's own HAProxy (a frontend relays strangers' requests from loopback): it is not trusted as local; set --apiToken (AQUEDUCT_API_TOKEN) and send it",
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
