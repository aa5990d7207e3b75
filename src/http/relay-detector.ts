// Whether a loopback connection to the API was opened by HAProxy. Without a
// token, loopback peers may write; but every frontend relays strangers'
// requests from HAProxy's own loopback address, so a member pointing at the
// API (by a DNS name resolving to 127.0.0.1, say) would hand that trust to
// anyone. The kernel knows who owns the other end: /proc/net/tcp{,6} gives
// the peer socket's inode and owner, and HAProxy's processes hold their
// sockets under /proc/<pid>/fd. Hand-written: no library reads these, and
// the format is the kernel's stable ABI. Linux only; elsewhere, and whenever
// the answer cannot be known, a connection counts as relayed (no trust).
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface Connection {
  remotePort?: number | undefined;
  localPort?: number | undefined;
}

export interface RelayDetector {
  /** True when HAProxy (or a process that cannot be told from it) owns the peer end of this connection. */
  relayedByHaproxy(c: Connection): Promise<boolean>;
}

interface PeerSocket {
  uid: number;
  inode: string;
}

const port = (field: string | undefined): number => parseInt(field?.split(':')[1] ?? '', 16);

/** The socket whose local port is the peer's and whose remote port is ours, in /proc/net/tcp{,6}'s text. */
function peerSocket(tables: readonly string[], c: Connection): PeerSocket | undefined {
  for (const text of tables) {
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (port(f[1]) === c.remotePort && port(f[2]) === c.localPort && f[3] === '01')
        return { uid: Number(f[7]), inode: f[9] ?? '' };
    }
  }
  return undefined;
}

/** Pids of this machine's visible HAProxy processes (by their command name). */
async function haproxyPids(procRoot: string): Promise<number[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  const pids = entries.filter((e) => /^\d+$/.test(e));
  const names = await Promise.all(pids.map((p) => readFile(`${procRoot}/${p}/comm`, 'utf8').catch(() => '')));
  return pids.filter((_p, i) => names[i]?.trim().startsWith('haproxy')).map(Number);
}

/** What one HAProxy process holds: its sockets' inodes, or (its descriptors unreadable) the user it runs as. */
type Holder = { sockets: Set<string> } | { uid: number | undefined } | 'gone';

async function holderOf(procRoot: string, pid: number): Promise<Holder> {
  const fds = await readdir(`${procRoot}/${pid}/fd`).catch((err: NodeJS.ErrnoException) => err);
  if (fds instanceof Error) {
    // Gone meanwhile (an old worker exiting): it owns nothing. Not ours to read: its user may own the socket.
    if (fds.code !== 'EACCES' && fds.code !== 'EPERM') return 'gone';
    const status = await readFile(`${procRoot}/${pid}/status`, 'utf8').catch(() => '');
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
    return { uid: uid === undefined ? undefined : Number(uid) };
  }
  const links = await Promise.all(fds.map((fd) => readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')));
  return { sockets: new Set(links.filter((l) => l.startsWith('socket:['))) };
}

/** Whether a holder may own the socket: it holds the inode, or runs as its owner where it cannot be read. */
function mayOwn(h: Holder, peer: PeerSocket): boolean {
  if (h === 'gone') return false;
  if ('sockets' in h) return h.sockets.has(`socket:[${peer.inode}]`);
  return h.uid !== undefined && h.uid === peer.uid;
}

interface Snapshot {
  tables: string[];
  holders: Holder[];
}

async function snapshot(procRoot: string): Promise<Snapshot> {
  const tables = await Promise.all(
    ['tcp', 'tcp6'].map((t) => readFile(`${procRoot}/net/${t}`, 'utf8').catch(() => '')),
  );
  const pids = await haproxyPids(procRoot);
  return { tables, holders: await Promise.all(pids.map((pid) => holderOf(procRoot, pid))) };
}

/**
 * One read for many callers: a caller that arrives while a read runs waits
 * for the next one, which starts after it arrived and so sees its connection
 * in /proc. A burst of a hundred new connections costs two reads of /proc,
 * not a hundred (each is a few hundred files).
 */
export function coalesced<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const run = read().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return () => {
    if (running === undefined) return start();
    next ??= running
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}

export interface ProcRelayOptions {
  /** Where procfs is mounted (tests point it elsewhere). */
  procRoot?: string;
  /**
   * HAProxy runs where its processes may not be visible (external mode: another container or pid
   * namespace): seeing none of them then proves nothing, and every loopback peer counts as relayed.
   */
  haproxyMayBeHidden: boolean;
}

/** The /proc-based detector; on a system without /proc every connection counts as relayed. */
export function procRelayDetector(opts: ProcRelayOptions): RelayDetector {
  const procRoot = opts.procRoot ?? '/proc';
  const look = coalesced(() => snapshot(procRoot));
  return {
    async relayedByHaproxy(c) {
      const seen = await look();
      const peer = peerSocket(seen.tables, c);
      if (peer === undefined) return true;
      if (seen.holders.length === 0) return opts.haproxyMayBeHidden;
      return seen.holders.some((h) => mayOwn(h, peer));
    },
  };
}
