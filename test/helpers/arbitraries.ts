// fast-check generators of valid manifest sets: every field, every rule
// type, random values from the characters each field allows.
import fc from 'fast-check';
import { backend, frontend, type Json, type JsonObject } from './fixtures.js';

const nameArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/);
const hostArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `127.0.${b}.${a}`),
  fc.constant('::1'),
  fc.constant('localhost'),
);
const memberArb = fc.record(
  { host: hostArb, port: fc.integer({ min: 1, max: 65535 }), weight: fc.integer({ min: 0, max: 256 }) },
  { requiredKeys: ['host', 'port'] },
);
const membersArb = fc.uniqueArray(memberArb, { maxLength: 6, selector: (m) => `${m.host}:${m.port}` });

// Printable ASCII without the single quote; rendered single-quoted, so spaces, '#', '"' and '\' are literal.
const literalArb = fc
  .stringMatching(/^[ !"#$%&()*+,\-./0-9:;<=>?@A-Z[\\\]^_`a-z{|}~]{1,24}$/)
  .filter((s) => s.trim() !== '');
// Regular expressions PCRE accepts: literals, dots, stars after atoms, classes, anchors.
const regexArb = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.constantFrom('a', 'b', '/', '\\.', '.', '.*', '[a-z]', '[^/]*', '[0-9]+', 'x?'), {
      minLength: 1,
      maxLength: 6,
    }),
    fc.boolean(),
  )
  .map(([start, atoms, end]) => `${start ? '^' : ''}${atoms.join('')}${end ? '$' : ''}`);
const domainArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}$/);

const ruleArb = (backends: string[]): fc.Arbitrary<JsonObject> =>
  fc.oneof(
    fc.record({
      type: fc.constant('path'),
      operation: fc.constantFrom('path', 'path_beg'),
      value: literalArb,
      backend: fc.constantFrom(...backends),
    }),
    fc.record({
      type: fc.constant('path'),
      operation: fc.constant('path_reg'),
      value: regexArb,
      backend: fc.constantFrom(...backends),
    }),
    fc.record({
      type: fc.constant('url'),
      operation: fc.constantFrom('url', 'url_beg'),
      value: literalArb,
      backend: fc.constantFrom(...backends),
    }),
    fc.record({
      type: fc.constant('url'),
      operation: fc.constant('url_reg'),
      value: regexArb,
      backend: fc.constantFrom(...backends),
    }),
    fc.record({
      type: fc.constant('header'),
      header: fc.constantFrom('host', 'x-tenant', 'X-Forwarded-Host'),
      operation: fc.constant('hdr_dom'),
      value: domainArb,
      backend: fc.constantFrom(...backends),
    }),
  );

const healthArb = fc.record(
  {
    method: fc.constantFrom('GET', 'HEAD', 'OPTIONS'),
    uri: fc.stringMatching(/^\/[a-z0-9._~/?=&%-]{0,20}$/),
    httpVersion: fc.constant('HTTP/1.0'),
    interval: fc.integer({ min: 100, max: 60000 }),
  },
  { requiredKeys: [] },
);

const backendSpecArb = (mode: 'http' | 'tcp'): fc.Arbitrary<JsonObject> =>
  fc.oneof(
    fc.record(
      {
        type: fc.constant('static'),
        mode: fc.constant(mode),
        balance: fc.constantFrom('roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random', 'random(2)'),
        host: fc.option(domainArb, { nil: null }),
        health: healthArb,
        natives: fc.constantFrom<string[]>([], ['timeout server 30s'], ['retries 5', 'option redispatch']),
        members: membersArb,
      },
      { requiredKeys: ['type', 'mode', 'members'] },
    ),
    fc.record(
      {
        type: fc.constant('dynamic'),
        mode: fc.constant(mode),
        name: nameArb,
        version: fc.stringMatching(/^[0-9]\.[0-9]{1,2}\.[0-9]{1,2}(-rc[0-9])?$/),
        balance: fc.constantFrom('roundrobin', 'leastconn', 'uri', 'hdr(host)', 'url_param id'),
        health: healthArb,
      },
      { requiredKeys: ['type', 'mode', 'name', 'version'] },
    ),
  ) as fc.Arbitrary<JsonObject>;

export interface GeneratedSet {
  docs: JsonObject[];
  members: Record<string, { host: string; port: number; weight?: number }[]>;
}

/** A valid manifest set with members for its dynamic backends. */
export const manifestSetArb: fc.Arbitrary<GeneratedSet> = fc
  .record({
    httpNames: fc.uniqueArray(
      nameArb.map((n) => `h-${n}`),
      { minLength: 1, maxLength: 5 },
    ),
    tcpNames: fc.uniqueArray(
      nameArb.map((n) => `t-${n}`),
      { maxLength: 2 },
    ),
  })
  .chain(({ httpNames, tcpNames }) =>
    fc
      .record({
        httpBackends: fc.tuple(...httpNames.map((n) => backendSpecArb('http').map((spec) => backend(n, spec)))),
        tcpBackends:
          tcpNames.length === 0
            ? fc.constant([])
            : fc.tuple(...tcpNames.map((n) => backendSpecArb('tcp').map((spec) => backend(n, spec)))),
        httpFrontends: fc.array(
          fc.record({
            backend: fc.constantFrom(...httpNames),
            keepalive: fc.constantFrom('default', 'close', 'server-close'),
            rules: fc.uniqueArray(ruleArb(httpNames), {
              maxLength: 8,
              selector: (r) => JSON.stringify([r['operation'], String(r['header'] ?? '').toLowerCase(), r['value']]),
            }),
            natives: fc.constantFrom<string[]>([], ['http-request set-header X-Proxy aqueduct']),
          }),
          { maxLength: 3 },
        ),
        tcpFrontendCount: fc.integer({ min: 0, max: tcpNames.length === 0 ? 0 : 2 }),
        members: fc.dictionary(
          fc.constantFrom(...httpNames, ...(tcpNames.length > 0 ? tcpNames : httpNames)),
          membersArb,
        ),
      })
      .map(({ httpBackends, tcpBackends, httpFrontends, tcpFrontendCount, members }) => {
        let port = 20000;
        const frontends: JsonObject[] = httpFrontends.map((spec, i) =>
          frontend(`web${i}`, { ...spec, bind: `127.0.0.1:${port++},127.0.0.1:${port++}`, mode: 'http' } as JsonObject),
        );
        for (let i = 0; i < tcpFrontendCount; i++) {
          frontends.push(
            frontend(`tcp${i}`, {
              bind: `127.0.0.1:${port++}`,
              backend: tcpNames[i % tcpNames.length] as string,
              mode: 'tcp',
            }),
          );
        }
        const docs: JsonObject[] = [...frontends, ...(httpBackends as JsonObject[]), ...(tcpBackends as JsonObject[])];
        return { docs, members: members as GeneratedSet['members'] };
      }),
  );

/** The same set written differently: documents shuffled across files, rules and members permuted. */
export const reshuffledArb = (set: GeneratedSet): fc.Arbitrary<JsonObject[][]> =>
  fc
    .tuple(
      fc.shuffledSubarray(set.docs, { minLength: set.docs.length, maxLength: set.docs.length }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: set.docs.length, maxLength: set.docs.length }),
      fc.infiniteStream(fc.integer()),
    )
    .map(([docs, fileOf, seeds]) => {
      const files: JsonObject[][] = [[], [], [], []];
      docs.forEach((doc, i) => {
        const copy = structuredClone(doc);
        const spec = copy['spec'] as Record<string, Json>;
        for (const key of ['rules', 'members']) {
          const list = spec[key];
          if (Array.isArray(list)) {
            const keyed = list.map((item) => ({ item, k: seeds.next().value as number }));
            spec[key] = keyed.sort((a, b) => a.k - b.k).map((x) => x.item);
          }
        }
        files[fileOf[i] ?? 0]?.push(copy);
      });
      return files;
    });
