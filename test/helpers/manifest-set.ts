// Generated manifest sets of any size: a frontend routing by path prefix to
// many backends. The benchmarks measure on them, and the memory test runs one.
import { stringify } from 'yaml';

export interface SetShape {
  backends: number;
  serversPerBackend: number;
  balance?: string;
  frontendPort: number;
  /** Added to every member port: lets a generation differ in members only. */
  portOffset?: number;
  /** Backends whose index is a multiple of this get `generation` added to their first member's port. */
  changeEvery?: number;
  generation?: number;
  /** A native line on the frontend: changing it is a structural change. */
  marker?: string;
}

/** A frontend routing by path prefix to `backends` backends of `serversPerBackend` members each. */
export function manifestSet(shape: SetShape): object[] {
  const docs: object[] = [];
  const rules = [];
  for (let b = 0; b < shape.backends; b++) {
    const members = [];
    for (let s = 0; s < shape.serversPerBackend; s++) {
      const changed =
        s === 0 && shape.changeEvery !== undefined && b % shape.changeEvery === 0 ? (shape.generation ?? 0) * 1000 : 0;
      members.push({
        host: `127.0.${1 + (b % 250)}.${1 + Math.floor(b / 250)}`,
        port: 20000 + s + (shape.portOffset ?? 0) + changed,
      });
    }
    docs.push({
      apiVersion: 'aqueduct/v1',
      kind: 'Backend',
      metadata: { name: `b${b}` },
      spec: { type: 'static', balance: shape.balance ?? 'roundrobin', health: { interval: 60000 }, members },
    });
    rules.push({ type: 'path', operation: 'path_beg', value: `/b${b}/`, backend: `b${b}` });
  }
  docs.unshift({
    apiVersion: 'aqueduct/v1',
    kind: 'Frontend',
    metadata: { name: 'bench' },
    spec: {
      bind: `127.0.0.1:${shape.frontendPort}`,
      backend: 'b0',
      rules,
      natives: shape.marker === undefined ? [] : [`http-request set-header X-Marker ${shape.marker}`],
    },
  });
  return docs;
}

export function toYaml(docs: object[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}
