// The manifest model. The JSON Schemas in schemas/ are the definition of the
// format; the manifest types are generated from them (schema-types.ts, by
// scripts/gen-types.mjs at build time) as they are after validation filled
// in the defaults. What is not a manifest (registry records, sources) is here.
import type {
  BackendManifest,
  CertificateManifest,
  FrontendManifest,
  FrontendSpec,
  Member,
  Rule,
} from './schema-types.js';

export type {
  AcmeSpec,
  BackendManifest,
  CertificateManifest,
  CertificateSpec,
  FrontendTls,
  Hsts,
  BackendSpec,
  FrontendManifest,
  FrontendSpec,
  Health,
  Member,
  Metadata,
  Mode,
  Rule,
  RolloutSpec,
  VersionWeight,
} from './schema-types.js';

export const API_VERSION: FrontendManifest['apiVersion'] = 'aqueduct/v1';

export type Keepalive = FrontendSpec['keepalive'];
export type RuleType = Rule['type'];
export type RuleOperation = Rule['operation'];

export type Manifest = FrontendManifest | BackendManifest | CertificateManifest;
export type Kind = Manifest['kind'];
export const KINDS: readonly Kind[] = ['Frontend', 'Backend', 'Certificate'];

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
