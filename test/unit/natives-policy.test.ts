// The natives policy judges the words HAProxy's parser produces: every
// quoting, escaping, case, tab and continuation variant of a section keyword
// or an unsafe directive is refused (fast-check generates them), while the
// routing lines the docs show stay accepted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { haproxyWords } from '../../src/core/manifests/haproxy-words.js';
import { unsafeNative } from '../../src/core/manifests/natives-policy.js';
import { SECTION_KEYWORDS } from '../../src/core/rendering/config-sections.js';

const UNSAFE_LINES = [
  ...[...SECTION_KEYWORDS].map((k) => `${k} pwn`),
  'external-check command /bin/true',
  'option external-check',
  'insecure-fork-wanted',
  'lua-load /tmp/x.lua',
  'command /bin/sh -c id',
  'stats socket /tmp/s level admin',
  '.if defined(X)',
  'http-request return status 200 file /etc/passwd',
  'http-request return status 200 lf-file /etc/passwd',
  'errorfile 503 /etc/passwd',
  'acl bad hdr(x) -f /etc/passwd',
  'http-request set-header X %[env(AQUEDUCT_API_TOKEN)]',
  'http-response set-header X %[req.hdr(host),map_dom(/etc/hosts)]',
  'http-request lua.pwn',
  'http-request set-map(/tmp/m) a b',
  'bind :443 ssl crt /etc/ssl/private/key.pem',
];

/** One word spelled the ways HAProxy still reads as that word. */
const spelling = (word: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(word),
    fc.constant(`"${word}"`),
    fc.constant(`'${word}'`),
    fc.integer({ min: 1, max: Math.max(1, word.length - 1) }).map((i) => `${word.slice(0, i)}"${word.slice(i)}"`),
    fc
      .integer({ min: 0, max: word.length - 1 })
      .map((i) => `${word.slice(0, i)}\\x${word.charCodeAt(i).toString(16).padStart(2, '0')}${word.slice(i + 1)}`),
    fc.constant(word.toUpperCase()),
    fc.constant(`""${word}`),
  );

const variant = (line: string): fc.Arbitrary<string> => {
  const [first = '', ...rest] = line.split(' ');
  return fc
    .tuple(
      fc.constantFrom('', '  ', '\t', ' \t '),
      spelling(first),
      fc.constantFrom(' ', '\t', '  '),
      fc.constantFrom('', ' # a comment', ' \\', '\t'),
      fc.constantFrom('', '"" '),
    )
    .map(
      ([lead, word, gap, tail, empty]) => `${lead}${empty}${word}${rest.length > 0 ? gap : ''}${rest.join(' ')}${tail}`,
    );
};

const SAFE_LINES = [
  'timeout server 1h',
  'option tcp-check',
  'option httpchk',
  'http-request use-service prometheus-exporter if { path /metrics }',
  'http-request set-header X-Forwarded-Proto https',
  'http-response set-header Cache-Control "no-store, max-age=0"',
  'http-request redirect scheme https code 301 if !{ ssl_fc }',
  'http-check send meth GET uri /health ver HTTP/1.1 hdr Host example.com',
  'acl is_api path_beg /api',
  'http-request deny if { src 10.0.0.0/8 }',
  'stick-table type ip size 100k expire 30s store http_req_rate(10s)',
  'http-request track-sc0 src',
  'http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100 }',
  'http-response set-header X-Server %[srv_name]',
  'log-format "%ci:%cp [%tr] %ft %b/%s %ST"',
  'compression algo gzip',
  'http-request set-var(txn.path) path',
  'http-response set-header X-Note \'a "quoted" value\'',
  'errorloc 503 https://status.example.com/',
];

describe('the natives policy', () => {
  it('refuses every spelling of a section keyword, an unsafe directive or a file or environment read', () => {
    for (const line of UNSAFE_LINES)
      fc.assert(
        fc.property(variant(line), (v) => {
          assert.notEqual(unsafeNative(v), undefined, `accepted: ${v}`);
        }),
        { numRuns: 60 },
      );
  });

  it("refuses the attack's exact lines, variables expanded in double quotes, and lines HAProxy cannot read", () => {
    for (const line of [
      '"global"',
      'master-worker', // harmless alone, but the next lines are what made HAProxy run a shell
      '"program" pwn',
      '"command" /bin/sh -c "id > /tmp/pwned"',
      '"backend" pwn-tail',
      'pro"gram" pwn',
      "'global'",
      'fcgi-app x',
      'log-forward x',
      'namespace_list',
      'http-response set-header X "${AQUEDUCT_API_TOKEN}"',
      'http-response set-header X "$AQUEDUCT_API_TOKEN"',
      'http-response set-header X "${HOME-x}"',
      'http-response set-header X ${HOME}',
      'http-response set-header X "unterminated',
      'http-response set-header X \\x4',
    ].filter((l) => l !== 'master-worker'))
      assert.notEqual(unsafeNative(line), undefined, line);
  });

  it('names the word that was refused', () => {
    assert.match(unsafeNative('"program" pwn') ?? '', /'program' opens a section/);
    assert.match(unsafeNative('http-request return status 200 file /etc/passwd') ?? '', /'file' serves a local file/);
    assert.match(unsafeNative('http-response set-header X "${TOKEN}"') ?? '', /'\$\{TOKEN\}' reads the environment/);
  });

  it('accepts the routing lines the docs show', () => {
    for (const line of SAFE_LINES) assert.equal(unsafeNative(line), undefined, line);
  });
});

describe("HAProxy's words", () => {
  it('are read as HAProxy reads them (checked against HAProxy 2.6 by hand: see the comments)', () => {
    // Each row: a line and the words HAProxy 2.6.12 gave the same text (as response headers).
    const rows: [string, string[]][] = [
      ['a "b c" d', ['a', 'b c', 'd']],
      ["a 'b \\x41' c", ['a', 'b \\x41', 'c']],
      ['a "\\x41\\t" b', ['a', 'A\t', 'b']],
      ['a a#b c', ['a', 'a']],
      ['a "a#b" c', ['a', 'a#b', 'c']],
      ['a a\\ b', ['a', 'a b']],
      ['x a""b', ['x', 'ab']],
      ['x \\"q', ['x', '"q']],
      ['x "a\\$FOO"', ['x', 'a$FOO']],
      ['x $FOO', ['x', '$FOO']],
      ['x glob\\al', ['x', 'glob\\al']],
      ['"glo"bal', ['global']],
    ];
    for (const [line, words] of rows) assert.deepEqual(haproxyWords(line).words, words, line);
    assert.deepEqual(haproxyWords('x "${FOO}" "$BAR" \'$BAZ\'').expansions, ['FOO', 'BAR']);
  });
});
