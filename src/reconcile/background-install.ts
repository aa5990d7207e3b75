// The file that records runtime changes, checked and installed in the
// background without a reload, so the next change never waits for haproxy
// -c. Installs are serialised and coalesced (the latest wins); a reload
// flushes them before it writes the file itself.
import type { Logger } from 'pino';
import type { ConfigStore } from '../core/config-store.js';
import type { CheckResult } from '../haproxy/check.js';
import type { Applied } from './run-types.js';

export interface BackgroundInstallDeps {
  check(configText: string, scratch: 'install'): Promise<CheckResult>;
  store: ConfigStore;
  /** Saves the applied record for a restart. */
  persist(applied: Applied): Promise<void>;
  /** haproxy -c refused the file: the next run must reload (it rewrites the file). */
  refused(reason: string): void;
  log: Logger;
}

export class BackgroundInstall {
  private pending: Applied | undefined;
  private installs: Promise<void> = Promise.resolve();

  constructor(private readonly deps: BackgroundInstallDeps) {}

  /** Installs this applied config once the installs before it are done (only the latest still pending). */
  schedule(applied: Applied): void {
    this.pending = applied;
    this.installs = this.installs.then(() => this.installPending());
  }

  /** Waits for the installs under way and drops what is pending: a reload is about to write the file. */
  async flush(): Promise<void> {
    await this.installs;
    this.pending = undefined;
  }

  /** Resolves once background installs are done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.installs;
  }

  private async installPending(): Promise<void> {
    const target = this.pending;
    if (target === undefined) return;
    this.pending = undefined;
    const { check, store, log } = this.deps;
    try {
      const result = await check(target.config, 'install');
      if (!result.ok) {
        log.error(
          { errors: result.errors },
          'haproxy -c refused the config recording runtime changes; it was not installed, the next reload rewrites it',
        );
        this.deps.refused('the config of runtime changes was refused by haproxy -c');
        return;
      }
      await store.install(target.config);
      await store.generations.write(target.generation, target.config);
      await this.deps.persist(target);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'installing the config of runtime changes failed');
    }
  }
}
