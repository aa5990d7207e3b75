// What the REST API answers, as types: the routes annotate their answers
// with them and the dashboard (ui/) reads the same ones, so a shape changed
// on one side fails the other's build. Types only, no runtime imports (the
// dashboard's type check has no Node types).
import type { RolloutPosition } from '../deploy/rollout.js';
import type { ProcessStatus } from '../haproxy-output/process-status.js';
import type { ApplyRecord } from '../planning/ledger.js';
import type { RegistryStatus } from '../registry/registry-status.js';
import type { BackendManifest, FrontendManifest, Kind, Registration, RolloutSpec } from './model.js';
import type { ObjectStatus } from './object-status.js';

/** GET /frontends/{name}: the spec with the original's id, _type and key beside it. */
export type ApiFrontend = { id: string; _type: 'frontend'; key: string; name: string } & FrontendManifest['spec'] & {
    status?: ObjectStatus;
  };

/** A switch waiting for a new server to pass its health check. */
export interface GateStatus {
  backend: string;
  /** New servers waiting for a passed check, by HAProxy server name. */
  waitingFor: string[];
  /** When this switch began waiting, ms since the epoch. */
  since: number;
  /** The gate's timeout passed with no new server healthy: the switch is held back. */
  timedOut: boolean;
}

/** Where a backend's deploy stands: its rollout position and health gate, when it has them. */
export interface BackendDeployStatus {
  rollout?: RolloutPosition;
  healthGate?: GateStatus;
  /** Why a switch is held (the current servers keep serving). */
  held?: string;
  /** Members HAProxy cannot resolve, as host:port. */
  unresolved?: string[];
}

/** A backend's status in the API: the object's, with its deploy's beside it. */
export type BackendStatus = ObjectStatus & Omit<BackendDeployStatus, 'held'>;

/** GET /backends/{name}: members are the registry's instances for a dynamic backend. */
export type ApiBackend = { id: string; _type: 'backend'; key: string } & Omit<BackendManifest['spec'], 'members'> & {
    members: (Registration | BackendManifest['spec']['members'][number])[];
    status?: BackendStatus;
  };

/** The last comparison of what HAProxy serves with what was applied. */
export interface DriftCheck {
  at: string;
  ok: boolean;
  error?: string;
}

/** One object in GET /status. */
export type ApiStatusObject = { id: string; kind: Kind; name: string } & ObjectStatus;

/** What the running loop adds to GET /status beside the objects. */
export interface ApiStatusExtra {
  driftCheck: DriftCheck | null;
  registry: RegistryStatus;
  /** Every member source of the run (the registry's kind, dns), by kind. */
  sources: Record<string, RegistryStatus>;
  /** HAProxy as `haproxy -vv` names it, and its processes. */
  haproxy: ProcessStatus & { version: string; buildOptions: string };
}

/** GET /status: every object with its status and every problem of the directory. */
export interface ApiStatus extends Partial<ApiStatusExtra> {
  ready: boolean;
  lastApply: ApplyRecord | null;
  objects: ApiStatusObject[];
  /** One line each: "file:line (document N) Kind/name path: message". */
  issues: string[];
  access: { readOnly: boolean; readToken: boolean; writeToken: boolean };
}

/** GET /backends/{name}/rollout: the declared rollout (gone once it ended) and its recorded position. */
export interface ApiRollout {
  spec: RolloutSpec | null;
  position: RolloutPosition | null;
}
