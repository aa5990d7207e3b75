// A configuration line cut into the words HAProxy's own parser produces
// (tools.c parse_line, checked against HAProxy 2.6 and 3.0): quotes removed,
// backslash escapes decoded, `#` ending the line outside quotes, and where
// environment variables would be expanded. A guard that judged the text as
// written would be walked around by `"global"`, `pro"gram"` or `\x67lobal`,
// so the natives policy judges these words instead. Hand-written because no
// library reads HAProxy's quoting, and the rules are short.

export interface HaproxyWords {
  /** The arguments HAProxy sees, in order; an expanded variable stands as `${NAME}`. */
  words: string[];
  /** Names of the environment variables HAProxy would expand into the line. */
  expansions: string[];
  /** What HAProxy would refuse about the line's quoting, if anything. */
  problem?: string;
}

const SPACE = new Set([' ', '\t', '\r', '\n', '\v', '\f']);
const LITERAL_AFTER_BACKSLASH = new Set([' ', '\t', '#', '\\', "'", '"', '$']);
const CONTROL_ESCAPES: Record<string, string> = { r: '\r', n: '\n', t: '\t' };
const VARIABLE = /^\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/;

interface Cursor {
  line: string;
  i: number;
  quote: '' | '"' | "'";
  word: string;
  inWord: boolean;
}

/** One backslash escape at c.i (the backslash); returns a problem when HAProxy would refuse it. */
function escape(c: Cursor): string | undefined {
  const next = c.line[c.i + 1];
  if (next !== undefined && LITERAL_AFTER_BACKSLASH.has(next)) {
    c.word += next;
    c.i += 2;
  } else if (next !== undefined && next in CONTROL_ESCAPES) {
    c.word += CONTROL_ESCAPES[next];
    c.i += 2;
  } else if (next === 'x') {
    const hex = c.line.slice(c.i + 2, c.i + 4);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return `truncated or invalid hexadecimal sequence at position ${c.i}`;
    c.word += String.fromCharCode(parseInt(hex, 16));
    c.i += 4;
  } else {
    c.word += '\\'; // HAProxy keeps a backslash before any other character
    c.i += 1;
  }
  return undefined;
}

/** A `$NAME` or `${NAME...}` inside double quotes at c.i. */
function variable(c: Cursor, expansions: string[]): void {
  const m = VARIABLE.exec(c.line.slice(c.i));
  if (m === null) {
    c.word += '$';
    c.i += 1;
    return;
  }
  const name = (m[1] ?? m[2] ?? '').split(/[^A-Za-z0-9_]/)[0] ?? '';
  expansions.push(name);
  c.word += `\${${name}}`;
  c.i += m[0].length;
}

/** The words of one line as HAProxy reads them. */
export function haproxyWords(line: string): HaproxyWords {
  const words: string[] = [];
  const expansions: string[] = [];
  const c: Cursor = { line, i: 0, quote: '', word: '', inWord: false };
  const endWord = (): void => {
    if (c.inWord) words.push(c.word);
    c.word = '';
    c.inWord = false;
  };
  while (c.i < line.length) {
    const ch = line[c.i] ?? '';
    if (c.quote === '' && SPACE.has(ch)) {
      endWord();
      c.i++;
      continue;
    }
    if (c.quote === '' && ch === '#') break;
    c.inWord = true;
    if (ch === c.quote) c.quote = '';
    else if (c.quote === '' && (ch === '"' || ch === "'")) c.quote = ch;
    else if (ch === '\\' && c.quote !== "'") {
      const problem = escape(c);
      if (problem !== undefined) return { words, expansions, problem };
      continue;
    } else if (ch === '$' && c.quote === '"') {
      variable(c, expansions);
      continue;
    } else c.word += ch;
    c.i++;
  }
  if (c.quote !== '') return { words, expansions, problem: `unmatched ${c.quote === '"' ? 'double' : 'single'} quote` };
  endWord();
  return { words, expansions };
}
