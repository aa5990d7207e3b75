// A loaded certificate replaced through the runtime API, without a reload:
// `set ssl cert <path>` opens a transaction with the new PEM, `commit ssl
// cert <path>` swaps it in for new handshakes (connections already open keep
// theirs). HAProxy's rules: the payload ends at its first blank line (the
// PEM given here has none), and only one certificate transaction may be open
// in the whole process, so updates take turns and a failed one is aborted.
import { abortSslCert, commitSslCert, setSslCert } from './commands.js';
import { run, RuntimeCommandError, type RuntimeApi } from './runtime-api.js';

export type ReplaceOutcome = 'replaced' | 'not loaded';

const NOT_LOADED = /not referenced by the configuration/;

export class CertificateUpdater {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly api: RuntimeApi) {}

  /** Serves `pem` for the certificate loaded from `file`; 'not loaded' when no bind uses that file. */
  replace(file: string, pem: string): Promise<ReplaceOutcome> {
    const run = this.turn.then(
      () => this.replaceNow(file, pem),
      () => this.replaceNow(file, pem),
    );
    this.turn = run.catch(() => undefined);
    return run;
  }

  private async replaceNow(file: string, pem: string): Promise<ReplaceOutcome> {
    if (/\n\s*\n/.test(pem.trimEnd())) throw new Error(`the PEM for ${file} holds a blank line, which ends a payload`);
    try {
      await run(this.api, setSslCert(file, pem));
    } catch (err) {
      if (err instanceof RuntimeCommandError && NOT_LOADED.test(err.answer)) return 'not loaded';
      await this.abort(file);
      throw err;
    }
    try {
      await run(this.api, commitSslCert(file));
    } catch (err) {
      await this.abort(file);
      throw err;
    }
    return 'replaced';
  }

  private async abort(file: string): Promise<void> {
    await run(this.api, abortSslCert(file)).catch(() => undefined);
  }
}
