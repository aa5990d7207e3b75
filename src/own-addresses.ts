// What Aqueduct owns on this machine, read once at startup: its listeners
// (the API, HAProxy's stats page and exporter), the registry it trusts, the
// names /etc/hosts gives this machine and its interface addresses. No
// frontend may take the listeners; no member may point at any of them, by
// any spelling, or HAProxy would relay a stranger's request as ours.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { RunConfig } from './config.js';
import {
  DEFAULT_HOSTS,
  hostMeanings,
  parseBind,
  reservedBind,
  type HostTable,
  type OwnAddresses,
  type ReservedBind,
} from './core/manifests/bind.js';

/** /etc/hosts as names → canonical addresses (the Debian defaults when it cannot be read). */
export async function readHostTable(file = '/etc/hosts'): Promise<HostTable> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return DEFAULT_HOSTS;
  const table = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [address, ...names] = (raw.split('#')[0] ?? '').trim().split(/\s+/);
    if (address === undefined || address === '' || names.length === 0) continue;
    const canonical = hostMeanings(address, new Map())[0] ?? address;
    for (const name of names) table.set(name.toLowerCase(), [...(table.get(name.toLowerCase()) ?? []), canonical]);
  }
  return table;
}

/** This machine's interface addresses, canonical ([v6] bracketed). */
export function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .flatMap((i) => (i === undefined ? [] : hostMeanings(i.address, new Map())));
}

/** Aqueduct's own listeners, which no frontend may take. */
function listeners(config: RunConfig, hosts: HostTable): ReservedBind[] {
  const out = [reservedBind(config.host, config.port, "Aqueduct's REST API (--host/--port)", hosts)];
  const stats = config.statsBind === undefined ? undefined : parseBind(config.statsBind, hosts).addresses[0];
  if (stats !== undefined) out.push({ address: stats, owner: "HAProxy's stats page (--statsBind)" });
  const metrics =
    config.haproxyMetricsBind === undefined ? undefined : parseBind(config.haproxyMetricsBind, hosts).addresses[0];
  if (metrics !== undefined)
    out.push({ address: metrics, owner: "HAProxy's Prometheus exporter (--haproxyMetricsBind)" });
  return out;
}

/** The registry Aqueduct reads, which takes writes without a token: no member may relay to it either. */
function registryServices(config: RunConfig, hosts: HostTable): ReservedBind[] {
  if (config.registry === 'none') return [];
  return [
    reservedBind(config.thalassaHost, config.thalassaApiPort, 'the registry API (--thalassaApiPort)', hosts),
    reservedBind(config.thalassaHost, config.thalassaPort, 'the registry event socket (--thalassaPort)', hosts),
  ];
}

export async function ownAddresses(config: RunConfig): Promise<OwnAddresses> {
  const hosts = await readHostTable();
  return {
    binds: listeners(config, hosts),
    services: registryServices(config, hosts),
    hosts,
    local: interfaceAddresses(),
  };
}
