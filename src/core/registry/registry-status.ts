// How a registry source reports itself in GET /status and to the dashboard. Types only.

export interface RegistryStatus {
  kind: string;
  /** The event transport is connected. */
  connected: boolean;
  /** The last full list was read at (ISO time), if ever. */
  lastSync: string | null;
  lastError: string | null;
  instances: number;
  /** Instances missing from the last list but kept within the grace period. */
  graced: number;
}
