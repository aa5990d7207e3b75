// The manifest model. The JSON Schemas in schemas/ are the definition of the
// format; these types mirror them after defaults are filled in by validation.

export const API_VERSION = 'aqueduct/v1';

export type Mode = 'http' | 'tcp';
export type Keepalive = 'default' | 'close' | 'server-close';
export type RuleType = 'path' | 'url' | 'header';
export type RuleOperation = 'path' | 'path_beg' | 'path_reg' | 'url' | 'url_beg' | 'url_reg' | 'hdr_dom';

export interface Metadata {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Rule {
  type: RuleType;
  operation: RuleOperation;
  header?: string;
  value: string;
  backend: string;
}

export interface FrontendSpec {
  bind: string;
  backend: string;
  mode: Mode;
  keepalive: Keepalive;
  rules: Rule[];
  natives: string[];
}

export interface Health {
  method: string;
  uri: string;
  httpVersion: 'HTTP/1.0' | 'HTTP/1.1';
  interval: number;
}

/** A server of a backend: listed in a static backend, or found in the registry. */
export interface Member {
  host: string;
  port: number;
  weight?: number;
}

/** A version of a dynamic backend and its relative share of requests. */
export interface VersionWeight {
  version: string;
  weight: number;
}

/** A progressive rollout from spec.version to `to` (defaults filled in). */
export interface RolloutSpec {
  to: string;
  steps: number[];
  stepSeconds: number;
  maxErrorRate: number;
  minRequests: number;
}

export interface BackendSpec {
  type: 'dynamic' | 'static';
  name?: string;
  version?: string;
  versions?: VersionWeight[];
  rollout?: RolloutSpec;
  balance: string;
  host: string | null;
  health?: Health;
  mode: Mode;
  natives: string[];
  members: Member[];
}

export interface FrontendManifest {
  apiVersion: typeof API_VERSION;
  kind: 'Frontend';
  metadata: Metadata;
  spec: FrontendSpec;
}

export interface BackendManifest {
  apiVersion: typeof API_VERSION;
  kind: 'Backend';
  metadata: Metadata;
  spec: BackendSpec;
}

export type Manifest = FrontendManifest | BackendManifest;
export type Kind = Manifest['kind'];
export const KINDS: readonly Kind[] = ['Frontend', 'Backend'];

/** Where a manifest came from, for error messages. Lines and documents count from 1. */
export interface SourceRef {
  file: string;
  document: number;
  line?: number;
}

export interface LoadedManifest<M extends Manifest = Manifest> {
  manifest: M;
  source: SourceRef;
}

/** Members of dynamic backends, by backend name. */
export type MemberMap = Readonly<Record<string, readonly Member[]>>;

/** An instance in the service registry, as Thalassa describes it. */
export interface Registration {
  /** `/name/version/host/port` */
  id: string;
  name: string;
  version: string;
  host: string;
  port: number;
  /** When the instance last checked in, ms since the epoch. */
  lastKnown: number;
  meta: Record<string, unknown>;
}
