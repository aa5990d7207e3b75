// The relay detector on a fake /proc (the kernel's formats, written by the
// test): it finds the peer socket by its ports, and calls a connection
// relayed when a visible HAProxy holds that socket, or runs as its owner
// where its descriptors cannot be read; a vanished process owns nothing.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { coalesced, procRelayDetector } from '../../src/http/relay-detector.js';
import { tempDir } from '../helpers/fixtures.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
/** A /proc/net/tcp row: client port → API port 10000 (0x2710), established, with owner and inode. */
const row = (clientPort: number, uid: number, inode: number) =>
  `   1: 0100007F:${clientPort.toString(16).toUpperCase()} 0100007F:2710 01 00000000:00000000 00:00000000 00000000 ${uid} 0 ${inode} 1 0 20 4 30 10 -1\n`;

async function fakeProc(rows: string, processes: { pid: number; comm: string; sockets: number[]; uid: number }[]) {
  const root = await tempDir('fake-proc-');
  await mkdir(path.join(root, 'net'));
  await writeFile(path.join(root, 'net', 'tcp'), HEADER + rows);
  await writeFile(path.join(root, 'net', 'tcp6'), HEADER);
  for (const p of processes) {
    await mkdir(path.join(root, String(p.pid), 'fd'), { recursive: true });
    await writeFile(path.join(root, String(p.pid), 'comm'), `${p.comm}\n`);
    await writeFile(
      path.join(root, String(p.pid), 'status'),
      `Name:\t${p.comm}\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`,
    );
    for (const [i, inode] of p.sockets.entries())
      await symlink(`socket:[${inode}]`, path.join(root, String(p.pid), 'fd', String(i + 3)));
  }
  return root;
}

describe('the relay detector', () => {
  const conn = (remotePort: number) => ({ remotePort, localPort: 10000 });

  it("calls a connection relayed when HAProxy holds the peer socket, and not when someone else's", async () => {
    const procRoot = await fakeProc(row(40000, 1000, 111) + row(40001, 1000, 222), [
      { pid: 10, comm: 'haproxy', sockets: [111, 5], uid: 1000 },
      { pid: 11, comm: 'curl', sockets: [222], uid: 1000 },
    ]);
    const d = procRelayDetector({ procRoot, haproxyMayBeHidden: false });
    assert.equal(await d.relayedByHaproxy(conn(40000)), true);
    assert.equal(await d.relayedByHaproxy(conn(40001)), false);
  });

  it('counts an unknown peer socket as relayed, and no visible HAProxy as relayed only when it may be hidden', async () => {
    const procRoot = await fakeProc(row(40001, 1000, 222), [{ pid: 11, comm: 'curl', sockets: [222], uid: 1000 }]);
    assert.equal(await procRelayDetector({ procRoot, haproxyMayBeHidden: false }).relayedByHaproxy(conn(49999)), true);
    assert.equal(await procRelayDetector({ procRoot, haproxyMayBeHidden: false }).relayedByHaproxy(conn(40001)), false);
    assert.equal(await procRelayDetector({ procRoot, haproxyMayBeHidden: true }).relayedByHaproxy(conn(40001)), true);
  });

  it('a vanished HAProxy process owns nothing', async () => {
    const procRoot = await fakeProc(row(40001, 1000, 222), [{ pid: 11, comm: 'curl', sockets: [222], uid: 1000 }]);
    await mkdir(path.join(procRoot, '12'));
    await writeFile(path.join(procRoot, '12', 'comm'), 'haproxy\n'); // its fd/ and status are gone
    assert.equal(await procRelayDetector({ procRoot, haproxyMayBeHidden: false }).relayedByHaproxy(conn(40001)), false);
  });
});

describe('coalesced reads of /proc', () => {
  it('shares a read among callers that arrive while it runs, and always starts one after a caller arrived', async () => {
    let reads = 0;
    const gates: (() => void)[] = [];
    const read = coalesced(
      () =>
        new Promise<number>((resolve) => {
          const n = ++reads;
          gates.push(() => resolve(n));
        }),
    );
    const first = read();
    const during = [read(), read(), read()];
    assert.equal(reads, 1, 'the callers during the first read wait for the next one');
    gates.shift()?.();
    assert.equal(await first, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(reads, 2);
    gates.shift()?.();
    assert.deepEqual(await Promise.all(during), [2, 2, 2]);
  });
});
