// HTTP-01 answers, served by HAProxy itself: every plain-HTTP frontend
// returns the key authorization of a token found in this map (the renderer
// puts that rule before any other). A token is added and removed through the
// runtime API (`add map`, `del map`), no reload; the file is kept equal so a
// reload in the middle of an order still answers.
import { writeFileAtomic } from '../files/atomic.js';
import { addMap, delMap } from '../haproxy/commands.js';
import { run, type RuntimeApi } from '../haproxy/runtime-api.js';

/** base64url, as RFC 8555 makes tokens and thumbprints: nothing that could end a CLI command. */
const TOKEN = /^[A-Za-z0-9_-]+$/;
const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class ChallengeMap {
  private readonly entries = new Map<string, string>();

  constructor(
    readonly file: string,
    private readonly api: RuntimeApi,
  ) {}

  async add(token: string, keyAuthorization: string): Promise<void> {
    if (!TOKEN.test(token) || !KEY_AUTHORIZATION.test(keyAuthorization))
      throw new Error('the ACME directory sent a token that is not base64url');
    this.entries.set(token, keyAuthorization);
    await this.save();
    // HAProxy may be down or reloading: the file answers once it loads it.
    await run(this.api, addMap(this.file, token, keyAuthorization)).catch(() => undefined);
  }

  async remove(token: string): Promise<void> {
    if (!this.entries.delete(token)) return;
    await this.save();
    await run(this.api, delMap(this.file, token)).catch(() => undefined);
  }

  private save(): Promise<void> {
    const text = [...this.entries].map(([t, k]) => `${t} ${k}\n`).join('');
    return writeFileAtomic(this.file, text);
  }
}
