// Generated from schemas/*.schema.json by scripts/gen-types.mjs (npm run build). Do not edit.
// A manifest after validation: properties with a default are always present.

/**
 * HAProxy proxy mode.
 */
export type Mode = 'http' | 'tcp';

export interface ManifestSchemas {
  frontend: FrontendManifest;
  backend: BackendManifest;
  certificate: CertificateManifest;
}
/**
 * A set of listening sockets accepting client connections, with routing rules to backends.
 */
export interface FrontendManifest {
  apiVersion: 'aqueduct/v1';
  kind: 'Frontend';
  metadata: Metadata;
  spec: FrontendSpec;
}
export interface Metadata {
  /**
   * Name of a frontend or backend; also used as the HAProxy section name.
   */
  name: string;
  /**
   * Free-form string map for tooling; never rendered into the HAProxy config.
   */
  labels?: {
    [k: string]: string;
  };
  /**
   * Free-form string map for tooling; never rendered into the HAProxy config.
   */
  annotations?: {
    [k: string]: string;
  };
}
export interface FrontendSpec {
  /**
   * IP and ports to bind to, comma separated; the host may be * (all addresses).
   */
  bind: string;
  /**
   * Name of a frontend or backend; also used as the HAProxy section name.
   */
  backend: string;
  mode: Mode;
  /**
   * Connection handling: default keeps connections alive on both sides, close closes after each response, server-close keeps the client side alive only.
   */
  keepalive: 'default' | 'close' | 'server-close';
  /**
   * Routing rules; a request matching a rule goes to the rule's backend instead of the default one.
   *
   * @maxItems 10000
   */
  rules: Rule[];
  tls?: FrontendTls;
  /**
   * Answer every request with a permanent redirect (308) to the same URL over HTTPS, on port 443 (true) or the port given. Only for an HTTP frontend without tls; ACME challenges are still answered.
   */
  redirectToHttps?: true | number;
  hsts?: Hsts;
  /**
   * Raw HAProxy configuration lines, one per item, inserted as is. The only field that may carry HAProxy syntax.
   *
   * Items: One raw HAProxy configuration line, inserted as is. Use sparingly.
   */
  natives: string[];
}
export interface Rule {
  /**
   * What the rule matches: the request path, the whole URL, or a header.
   */
  type: 'path' | 'url' | 'header';
  /**
   * HAProxy match: exact (path, url), prefix (path_beg, url_beg), regular expression (path_reg, url_reg) or domain (hdr_dom).
   */
  operation: 'path' | 'path_beg' | 'path_reg' | 'url' | 'url_beg' | 'url_reg' | 'hdr_dom';
  /**
   * The HTTP header to match (header rules only).
   */
  header?: string;
  /**
   * The value to match; rendered single-quoted, so spaces, '#' and '"' are literal.
   */
  value: string;
  /**
   * Name of a frontend or backend; also used as the HAProxy section name.
   */
  backend: string;
}
/**
 * Terminate TLS on every bind of this frontend with these certificates; SNI picks one by its names (wildcards included), the default serves clients that send no name or one no certificate covers.
 */
export interface FrontendTls {
  /**
   * Names of Certificate objects.
   *
   * @minItems 1
   * @maxItems 10000
   *
   * Items: Name of a frontend or backend; also used as the HAProxy section name.
   */
  certificates: string[];
  /**
   * Name of a frontend or backend; also used as the HAProxy section name.
   */
  defaultCertificate?: string;
  /**
   * Oldest TLS version accepted.
   */
  minVersion: 'TLSv1.0' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /**
   * Protocols offered over ALPN, in order of preference; default h2 then http/1.1 in http mode, none in tcp mode.
   *
   * @minItems 1
   */
  alpn?: ('h2' | 'http/1.1')[];
}
/**
 * Add Strict-Transport-Security to every response of this TLS frontend.
 */
export interface Hsts {
  /**
   * Seconds browsers keep to HTTPS (default one year).
   */
  maxAge: number;
  includeSubDomains: boolean;
  preload: boolean;
}
/**
 * A pool of servers (members) that frontends route to: static members, or members taken from a source (the Thalassa registry by name and version, or DNS SRV records).
 */
export interface BackendManifest {
  apiVersion: 'aqueduct/v1';
  kind: 'Backend';
  metadata: Metadata;
  spec: BackendSpec;
}
export interface BackendSpec {
  /**
   * dynamic: members are every registry instance with this name and version; static: members are listed here.
   */
  type: 'dynamic' | 'static';
  /**
   * Where a dynamic backend's members come from: thalassa or socketio, the registry --registry runs (the default when absent, so a manifest without it means what it always meant), or dns, the SRV records of service (and the A/AAAA records they name), as Kubernetes headless services, Consul and Nomad publish them.
   */
  source?: 'thalassa' | 'socketio' | 'dns';
  /**
   * Service name under which instances register in Thalassa.
   */
  name?: string;
  /**
   * Exact service version to route to (no ranges).
   */
  version?: string;
  /**
   * The SRV name a backend with source dns resolves, e.g. _http._tcp.myapp.service.consul; {version} in it is replaced by the version, so versions can be separate SRV names.
   */
  service?: string;
  /**
   * Weighted versions of a dynamic backend: members of every listed version, each version's share of requests proportional to its weight whatever its number of members. Overrides version for routing; version stays the stable version a rollout starts from.
   *
   * @minItems 1
   * @maxItems 16
   */
  versions?: VersionWeight[];
  rollout?: RolloutSpec;
  /**
   * HAProxy load-balancing algorithm.
   */
  balance: string;
  host: string | null;
  health?: Health;
  mode: Mode;
  /**
   * Raw HAProxy configuration lines, one per item, inserted as is. The only field that may carry HAProxy syntax.
   *
   * Items: One raw HAProxy configuration line, inserted as is. Use sparingly.
   */
  natives: string[];
  /**
   * A dynamic backend may be switched to a version (or split, or rollout target) with no instances, emptying it. Without it such a switch is held: the current servers keep serving, the status says what is missing, and the switch applies once instances register.
   */
  allowEmpty?: boolean;
  /**
   * Static members. For dynamic backends members come from the registry and must not be listed.
   *
   * @maxItems 100000
   */
  members: Member[];
}
export interface VersionWeight {
  /**
   * Exact service version to route to (no ranges).
   */
  version: string;
  /**
   * Relative share of requests; 0 drains the version (no new requests).
   */
  weight: number;
}
/**
 * Progressive rollout of a dynamic backend from version to `to`: the new version's share moves through steps, and goes back to 0 on its own when its error rate, read from HAProxy's counters, exceeds maxErrorRate.
 */
export interface RolloutSpec {
  /**
   * Exact service version to route to (no ranges).
   */
  to: string;
  /**
   * The new version's share of requests at each step, percent, ascending.
   *
   * @minItems 1
   * @maxItems 20
   */
  steps: number[];
  /**
   * How long each step lasts before its figures are judged.
   */
  stepSeconds: number;
  /**
   * Highest share of the new version's requests that may fail (5xx, connection or response errors) before the rollout is rolled back.
   */
  maxErrorRate: number;
  /**
   * Requests the new version must have answered in a step before that step is judged: no step advances on too little traffic.
   */
  minRequests: number;
}
/**
 * HTTP health check sent to every member (http mode); in tcp mode only interval is used, for a connect check.
 */
export interface Health {
  /**
   * HTTP method of the check.
   */
  method: 'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'TRACE';
  /**
   * URI requested by the check.
   */
  uri: string;
  /**
   * HTTP version of the check; HTTP/1.1 requires the backend host.
   */
  httpVersion: 'HTTP/1.0' | 'HTTP/1.1';
  /**
   * Milliseconds between checks.
   */
  interval: number;
}
export interface Member {
  host: string;
  /**
   * TCP port.
   */
  port: number;
  /**
   * HAProxy server weight (0 to 256); omitted means HAProxy's default of 1.
   */
  weight?: number;
}
/**
 * A TLS certificate and its private key that frontends can serve: read from files (renewed in place by whoever writes them), or issued and renewed through ACME.
 */
export interface CertificateManifest {
  apiVersion: 'aqueduct/v1';
  kind: 'Certificate';
  metadata: Metadata;
  spec: CertificateSpec;
}
export interface CertificateSpec {
  certFile?: string;
  keyFile?: string;
  acme?: AcmeSpec;
}
/**
 * Issue and renew the certificate from the ACME directory given by --acmeDirectory, answering HTTP-01 challenges on every plain-HTTP frontend.
 */
export interface AcmeSpec {
  /**
   * Names the certificate covers; the first is its subject.
   *
   * @minItems 1
   * @maxItems 100
   */
  domains: string[];
}
