// YAML text → plain documents, keeping enough of the parse tree to point an
// error at the line of the field it is about.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';
import type { Issue } from '../issues.js';
import type { PathSegments } from './schema-validation.js';

export interface YamlDocument {
  /** From 1, in file order. */
  index: number;
  data: unknown;
  /** Line of the document's first content. */
  line: number;
  /** Line and column (from 1) of the node at the path, or of its deepest existing ancestor. */
  locate(segments: PathSegments): { line: number; column: number };
}

export interface ParsedYaml {
  documents: YamlDocument[];
  issues: Issue[];
}

/** Parses every document of a YAML stream; a broken document is an issue, the others still parse. */
export function parseYamlDocuments(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const documents: YamlDocument[] = [];
  const issues: Issue[] = [];
  if (!Array.isArray(docs)) return { documents, issues }; // an empty stream
  docs.forEach((doc, i) => {
    const index = i + 1;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = err.linePos?.[0];
        issues.push({
          code: 'yaml-syntax',
          file,
          document: index,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          path: '',
          message: `YAML syntax error: ${(err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '')}`,
        });
      }
      return;
    }
    const contents = doc.contents as Node | null;
    if (contents === null) return; // an empty document, e.g. a trailing '---'
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      issues.push({
        code: 'yaml-syntax',
        file,
        document: index,
        path: '',
        message: `YAML error: ${(err as Error).message}`,
      });
      return;
    }
    if (data === null || data === undefined) return; // only comments, or an explicit null
    const start = contents.range?.[0] ?? 0;
    documents.push({
      index,
      data,
      line: lineCounter.linePos(start).line,
      locate: locator(contents, lineCounter),
    });
  });
  return { documents, issues };
}

function locator(contents: Node, lineCounter: LineCounter): YamlDocument['locate'] {
  return (segments) => {
    const p = lineCounter.linePos(offsetOf(contents, segments));
    return { line: p.line, column: p.col };
  };
}

/**
 * A locator for later that holds only the text: the parse tree is several
 * times the size of the data, and after validation a line is wanted only for
 * the rare message about an object, when the file is parsed again.
 */
export function laterLocator(text: string, index: number): YamlDocument['locate'] {
  return (segments) => {
    const parsed = reparsed(text, index - 1);
    if (parsed === undefined) return { line: 1, column: 1 };
    const p = parsed.lines.linePos(offsetOf(parsed.tree, segments));
    return { line: p.line, column: p.col };
  };
}

// One file's re-parse, kept for the next lookup: the messages about one file come together.
let lastReparse: { text: string; docs: (Node | null)[]; lines: LineCounter } | undefined;

function reparsed(text: string, docIndex: number): { tree: Node; lines: LineCounter } | undefined {
  if (lastReparse?.text !== text) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines });
    const list = Array.isArray(docs) ? docs.map((d) => d.contents as Node | null) : [];
    lastReparse = { text, docs: list, lines };
  }
  const tree = lastReparse.docs[docIndex];
  return tree === null || tree === undefined ? undefined : { tree, lines: lastReparse.lines };
}

/** Offset of the node at the path, or of its deepest existing ancestor. */
function offsetOf(contents: Node, segments: PathSegments): number {
  let node: unknown = contents;
  let offset = contents.range?.[0] ?? 0;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      const key = pair.key as Node;
      offset = key.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
