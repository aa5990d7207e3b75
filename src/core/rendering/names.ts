// Names that appear in the HAProxy config. They are derived from content, so
// the same input always renders the same bytes (the original used random ACL
// names, which made every render differ and every change a reload).
import { createHash } from 'node:crypto';
import type { Rule } from '../manifests/model.js';

/** HAProxy server name: backend, host and port, e.g. live_127.0.0.1:9001. Stable across renders. */
export function serverName(backend: string, host: string, port: number): string {
  return `${backend}_${host.toLowerCase()}:${port}`;
}

/** "host:port", with brackets around an IPv6 host. */
export function serverAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host.toLowerCase()}]:${port}` : `${host.toLowerCase()}:${port}`;
}

/** ACL name from what the rule matches (not where it routes): e.g. path_beg_3f2a9c1b. */
export function aclName(rule: Pick<Rule, 'operation' | 'header' | 'value'>): string {
  const digest = createHash('sha256')
    .update(`${rule.operation}\0${rule.header?.toLowerCase() ?? ''}\0${rule.value}`)
    .digest('hex');
  return `${rule.operation}_${digest.slice(0, 10)}`;
}
