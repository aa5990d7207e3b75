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

/** The socket whose local port is the peer's and whose remote port is ours, from /proc/net/tcp{,6}. */
async function peerSocket(procRoot: string, c: Connection): Promise<PeerSocket | undefined> {
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`${procRoot}/net/${table}`, 'utf8').catch(() => '');
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

/** Whether process `pid` may own the socket: it holds the inode, or (its descriptors unreadable) runs as its owner. */
async function mayOwn(procRoot: string, pid: number, peer: PeerSocket): Promise<boolean> {
  const fds = await readdir(`${procRoot}/${pid}/fd`).catch((err: NodeJS.ErrnoException) => err);
  if (fds instanceof Error) {
    // Gone meanwhile (an old worker exiting): it owns nothing. Not ours to read: its user may own the socket.
    if (fds.code !== 'EACCES' && fds.code !== 'EPERM') return false;
    const status = await readFile(`${procRoot}/${pid}/status`, 'utf8').catch(() => '');
    const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
    return uid !== undefined && Number(uid) === peer.uid;
  }
  const target = `socket:[${peer.inode}]`;
  const links = await Promise.all(fds.map((fd) => readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')));
  return links.includes(target);
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
  return {
    async relayedByHaproxy(c) {
      const peer = await peerSocket(procRoot, c);
      if (peer === undefined) return true;
      const pids = await haproxyPids(procRoot);
      if (pids.length === 0) return opts.haproxyMayBeHidden;
      const owners = await Promise.all(pids.map((pid) => mayOwn(procRoot, pid, peer)));
      return owners.includes(true);
    },
  };
}
