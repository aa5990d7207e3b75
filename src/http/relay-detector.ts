// Whether a loopback connection to the API was opened by HAProxy. Without a
// token, loopback peers may write; but every frontend relays strangers'
// requests from HAProxy's own loopback address, so a member pointing at the
// API (by a DNS name resolving to 127.0.0.1, say) would hand that trust to
// anyone. The kernel knows who owns the other end: /proc/net/tcp{,6} gives
// the peer socket's inode and owner, and HAProxy's processes hold their
// sockets under /proc/<pid>/fd. Hand-written: no library reads these, and
// the format is the kernel's stable ABI. Linux only; elsewhere, and whenever
// the answer cannot be known, a connection counts as relayed (no trust).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

// procfs is served from kernel memory, never the disk: reading it synchronously
// costs ~5 ms for a hundred processes where the promise forms, three threadpool
// round trips per file, took ~25 ms and queued behind fsyncs. Reads are
// shared among concurrent connections (coalesced below).

/** Pids of this machine's visible HAProxy processes (by their command name). */
function haproxyPids(procRoot: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e) && readOr(`${procRoot}/${e}/comm`).startsWith('haproxy')).map(Number);
}

const readOr = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** What one HAProxy process holds: its sockets' inodes, or (its descriptors unreadable) the user it runs as. */
type Holder = { sockets: Set<string> } | { uid: number | undefined } | 'gone';

function holderOf(procRoot: string, pid: number): Holder {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch (err) {
    // Gone meanwhile (an old worker exiting): it owns nothing. Not ours to read: its user may own the socket.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') return 'gone';
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(readOr(`${procRoot}/${pid}/status`))?.[1];
    return { uid: uid === undefined ? undefined : Number(uid) };
  }
  const sockets = new Set<string>();
  for (const fd of fds) {
    try {
      const link = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) sockets.add(link);
    } catch {
      // closed meanwhile
    }
  }
  return { sockets };
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
  // A turn of the event loop first, so that every connection accepted meanwhile shares this read.
  await new Promise((resolve) => setImmediate(resolve));
  const tables = ['tcp', 'tcp6'].map((t) => readOr(`${procRoot}/net/${t}`));
  return { tables, holders: haproxyPids(procRoot).map((pid) => holderOf(procRoot, pid)) };
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
