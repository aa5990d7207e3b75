// A real DNS server for the DNS source's tests: Debian's dnsmasq on a
// loopback port, authoritative for one test domain (names outside it are
// NXDOMAIN), with a TTL of 1 s. Records change by rewriting its config and
// restarting it on the same port (dnsmasq re-reads SRV records only at start).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Resolver } from 'node:dns/promises';
import { tempDir } from './fixtures.js';
import { freePort } from './haproxy.js';
import { eventually } from './wait.js';

export const DNSMASQ_BIN = process.env['DNSMASQ_BIN'] ?? 'dnsmasq';

/** SRV name → its targets, each a host name (given an A record to address) and a port. */
export type Zone = Record<string, { host: string; address: string; port: number }[]>;

export interface DnsServer {
  /** address:port, for --dnsServer. */
  server: string;
  /** Serves this zone from now on (a restart: a moment without answers). */
  serve(zone: Zone): Promise<void>;
  stop(): Promise<void>;
}

function configOf(port: number, domain: string, zone: Zone): string {
  const lines = [`port=${port}`, 'listen-address=127.0.0.1', 'bind-interfaces', 'no-resolv', 'no-hosts'];
  lines.push(`local=/${domain}/`, 'local-ttl=1', `user=${userInfo().username}`);
  const hosts = new Map<string, string>();
  for (const [name, targets] of Object.entries(zone))
    for (const t of targets) {
      lines.push(`srv-host=${name},${t.host},${t.port}`);
      hosts.set(t.host, t.address);
    }
  for (const [host, address] of hosts) lines.push(`host-record=${host},${address}`);
  return `${lines.join('\n')}\n`;
}

export async function startDns(domain: string, zone: Zone): Promise<DnsServer> {
  const dir = await tempDir('aqueduct-dns-');
  const port = await freePort();
  const conf = path.join(dir, 'dnsmasq.conf');
  let child: ChildProcess | undefined;
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const stop = async () => {
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    child = undefined;
  };
  const serve = async (z: Zone) => {
    await stop();
    await writeFile(conf, configOf(port, domain, z));
    child = spawn(DNSMASQ_BIN, ['--keep-in-foreground', `--conf-file=${conf}`], { stdio: 'ignore' });
    // Up once it answers for its domain (NXDOMAIN is an answer).
    await eventually(
      () =>
        resolver.resolveSrv(`_probe._tcp.${domain}`).then(
          () => true,
          (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND',
        ),
      Boolean,
      5000,
    );
  };
  await serve(zone);
  return { server: `127.0.0.1:${port}`, serve, stop };
}
