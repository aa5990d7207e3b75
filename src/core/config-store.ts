// What the reconciler keeps between runs and restarts, behind one interface:
// the config file HAProxy loads, the record of what was applied, and the
// history of applied generations: a port of the pure core, implemented on
// disk in src/haproxy/config-store.ts;
// in memory in the reconciler's unit tests.
import type { LoadedManifest } from './manifests/model.js';
import type { DesiredState } from './rendering/desired-state.js';

/** What was applied, as saved for a restart: the installed file must still hash to `hash`. */
export interface AppliedRecord {
  hash: string;
  state: DesiredState;
  manifests: LoadedManifest[];
  generation: number;
}

export interface GenerationHistory {
  /** The next generation number, handed out at once (a runtime apply names it before its file is written). */
  allocate(): Promise<number>;
  /** Writes an allocated generation's config, forgetting the oldest beyond the number kept. */
  write(seq: number, text: string): Promise<void>;
  /** allocate + write: returns the number. */
  record(text: string): Promise<number>;
  read(seq: number): Promise<string | undefined>;
}

export interface ConfigStore {
  /** For messages: where the config file and the state live. */
  readonly where: { config: string; state: string };
  /** The config file as it is now, undefined when there is none. */
  installed(): Promise<string | undefined>;
  /** Replaces the config file, atomically. */
  install(text: string): Promise<void>;
  loadApplied(): Promise<AppliedRecord | undefined>;
  saveApplied(record: AppliedRecord): Promise<void>;
  generations: GenerationHistory;
}
