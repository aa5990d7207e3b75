// Every HAProxy CLI command Aqueduct sends, one typed function each (the
// model is the Data Plane API's client-native runtime/ package): the stats
// socket's runtime API and the master CLI. Only text is built here; the
// sockets are socket-client.ts, the answers are parsed in core/haproxy-output/.
// A command whose success HAProxy reports with words carries them as `ok`.

/** A command whose success HAProxy reports as an empty answer or one matching `ok`. */
export interface RuntimeCommand {
  command: string;
  ok?: RegExp;
}

/** A server of a backend, as the runtime API names it. */
export type ServerId = `${string}/${string}`;

export const serverId = (backend: string, server: string): ServerId => `${backend}/${server}`;

const plain = (command: string): RuntimeCommand => ({ command });

// Servers (HAProxy 2.4+: dynamic servers).
export const addServer = (id: ServerId, address: string, args: readonly string[]): RuntimeCommand => ({
  command: `add server ${id} ${address} ${args.join(' ')}`.trim(),
  ok: /^New server registered\.?$/,
});
export const delServer = (id: ServerId): RuntimeCommand => ({ command: `del server ${id}`, ok: /^Server deleted\.?$/ });
export const enableServer = (id: ServerId): RuntimeCommand => plain(`enable server ${id}`);
export const enableHealth = (id: ServerId): RuntimeCommand => plain(`enable health ${id}`);
export const setServerState = (id: ServerId, state: 'ready' | 'drain' | 'maint'): RuntimeCommand =>
  plain(`set server ${id} state ${state}`);
export const setWeight = (id: ServerId, weight: number | string): RuntimeCommand => plain(`set weight ${id} ${weight}`);
export const shutdownSessions = (id: ServerId): RuntimeCommand => plain(`shutdown sessions server ${id}`);

// What HAProxy reports.
export const showServersState = (): RuntimeCommand => plain('show servers state');
/** `show stat`, or only the servers' lines (`-1 4 -1`: every proxy, type server, every id). */
export const showStat = (only?: 'servers'): RuntimeCommand =>
  plain(only === 'servers' ? 'show stat -1 4 -1' : 'show stat');
export const showInfo = (): RuntimeCommand => plain('show info');

// Certificates: one transaction at a time, its payload a PEM without blank lines.
export const setSslCert = (file: string, pem: string): RuntimeCommand => ({
  command: `set ssl cert ${file} <<\n${pem.trimEnd()}\n`,
  ok: /^Transaction (created|updated) for/,
});
export const commitSslCert = (file: string): RuntimeCommand => ({ command: `commit ssl cert ${file}`, ok: /Success!/ });
export const abortSslCert = (file: string): RuntimeCommand => ({
  command: `abort ssl cert ${file}`,
  ok: /Transaction aborted|No ongoing transaction/,
});

// Maps: entries one at a time (the ACME challenge map), or a whole new
// version filled and then committed at once (the routing maps: a request
// sees the old entries or the new ones, never a mix).
export const addMap = (file: string, key: string, value: string): RuntimeCommand =>
  plain(`add map ${file} ${key} ${value}`);
export const delMap = (file: string, key: string): RuntimeCommand => plain(`del map ${file} ${key}`);
const PREPARED = /^New version created: (\d+)$/;
export const prepareMap = (file: string): RuntimeCommand => ({ command: `prepare map ${file}`, ok: PREPARED });
/** The version `prepare map` answered with, if it did. */
export const preparedVersion = (answer: string): number | undefined => {
  const m = PREPARED.exec(answer.trim());
  return m === null ? undefined : Number(m[1]);
};
export const addMapAt = (version: number, file: string, key: string, value: string): RuntimeCommand =>
  plain(`add map @${version} ${file} ${key} ${value}`);
export const commitMap = (version: number, file: string): RuntimeCommand => plain(`commit map @${version} ${file}`);
export const showMap = (file: string): RuntimeCommand => plain(`show map ${file}`);

// The master CLI.
export const showProc = (): RuntimeCommand => plain('show proc');
export const reload = (): RuntimeCommand => plain('reload');
/** A command for one worker through its master: the first (`@1`) or the one with this pid (`@!<pid>`). */
export const onWorker = (pid: number | undefined, c: RuntimeCommand): RuntimeCommand => ({
  ...c,
  command: `${pid === undefined ? '@1' : `@!${pid}`} ${c.command}`,
});
