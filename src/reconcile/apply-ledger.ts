// The apply ledger: every apply and event, numbered, kept for the API and
// the dashboard (the last 200), logged, and told to whoever listens.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ApplyRecord } from '../core/planning/ledger.js';
import type { Run } from './run-types.js';

const LEDGER_SIZE = 200;
const MAX_REASONS = 20;

export type LedgerEntry = Omit<ApplyRecord, 'id' | 'at'>;

export class ApplyLedger {
  private readonly records: ApplyRecord[] = [];
  private nextId = 1;
  private listeners: ((r: ApplyRecord) => void)[] = [];

  constructor(private readonly deps: { clock: Clock; log: Logger }) {}

  /** Every entry kept, oldest first. */
  all(): readonly ApplyRecord[] {
    return this.records;
  }

  last(): ApplyRecord | undefined {
    return this.records[this.records.length - 1];
  }

  /** Calls listener with every new entry; returns a function that stops it. */
  onApply(listener: (r: ApplyRecord) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** An entry for this run: its triggers and its duration so far. */
  record(run: Run, r: Omit<LedgerEntry, 'triggers' | 'durationMs'>): ApplyRecord {
    return this.append({ triggers: run.triggers, durationMs: this.deps.clock.now() - run.started, ...r });
  }

  append(r: LedgerEntry): ApplyRecord {
    // A first apply of 1,000 backends has 1,000 reasons: keep the ledger and the log line readable.
    const reasons =
      r.reasons.length <= MAX_REASONS
        ? r.reasons
        : [...r.reasons.slice(0, MAX_REASONS - 1), `and ${r.reasons.length - MAX_REASONS + 1} more`];
    const full: ApplyRecord = { id: this.nextId++, at: new Date(this.deps.clock.now()).toISOString(), ...r, reasons };
    this.records.push(full);
    if (this.records.length > LEDGER_SIZE) this.records.shift();
    const { id: apply, at: _at, error: _error, ...rest } = full;
    const fields = { apply, ...rest };
    if (full.result === 'ok' || full.result === 'deferred')
      this.deps.log.info(fields, `apply ${full.plan}: ${full.result}`);
    else this.deps.log.error({ ...fields, error: full.error }, `apply ${full.plan}: ${full.result}`);
    for (const l of this.listeners) l(full);
    return full;
  }
}
