// The status every API object carries. Types only: the dashboard reads them too.

/** Kubernetes-style state of one object: what is declared, what is served, and why they differ. */
export interface ObjectStatus {
  /** Identity of the declared object (its ETag without quotes). */
  generation: string | null;
  /** Identity of the version HAProxy serves, null when none is. */
  appliedGeneration: string | null;
  /** applied: served as declared; pending: valid, not served yet; invalid: cannot be served as declared. */
  state: 'applied' | 'pending' | 'invalid';
  /** current: the declared version; previous: an older version (last good); none: not served. */
  serving: 'current' | 'previous' | 'none';
  file: string | null;
  issues: string[];
  lastError: string | null;
  /**
   * Why HAProxy does not serve the declared backend as declared although it
   * was applied: a switch to nothing held back (the current servers keep
   * serving), a version of its split with no instances, or a health gate
   * waiting for a new server to pass its check. Null otherwise.
   */
  held: string | null;
}
