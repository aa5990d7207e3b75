// renderConfig's output, byte for byte, with work in proportion to what
// changed since the last call: each frontend's and backend's text is kept
// while its desired object is the same one (desiredStateBuilder keeps an
// object while its manifest and members are unchanged), so one member
// changed at 10,000 servers renders one backend, not a thousand.
//
// Mustache has no such memory, so this walks Mustache's own tokens: a
// top-level list section ({{#frontends}}, {{#backends}}) renders each
// element exactly as Mustache's section would (the writer's renderTokens in
// the element's context), the rest of the template as Mustache renders it. A
// template whose text for one element could depend on another (a list named
// inside a list, or outside one) is rendered whole every time.
import Mustache, { type TemplateSpans } from 'mustache';
import type { DesiredBackend, DesiredFrontend, DesiredState } from './desired-state.js';
import { markSection } from './instance-mark.js';
import {
  backendView,
  frontendView,
  noEscape,
  renderConfig,
  rootView,
  type BackendView,
  type FrontendView,
  type RenderOptions,
} from './render.js';

type Token = TemplateSpans[number];
type Element = DesiredFrontend | DesiredBackend;

/** The view's lists, and how one element of each becomes its view. */
const LISTS = {
  frontends: (s: DesiredState) => s.frontends,
  backends: (s: DesiredState) => s.backends,
} as const;
type ListName = keyof typeof LISTS;
const isList = (name: string): name is ListName => Object.hasOwn(LISTS, name);

function elementView(list: ListName, e: Element, options: RenderOptions): FrontendView | BackendView {
  return list === 'frontends' ? frontendView(e as DesiredFrontend, options) : backendView(e as DesiredBackend);
}

/** Whether any name in these tokens (sections within sections included) starts with a list's name. */
function namesAList(tokens: TemplateSpans): boolean {
  return tokens.some((t) => {
    if (t[0] !== 'text' && t[0] !== '=' && isList(t[1].split('.')[0] ?? '')) return true;
    const inner = t[4];
    return Array.isArray(inner) && namesAList(inner);
  });
}

/** For each top-level token, the list whose elements it renders one at a time; undefined: render it as is. */
interface TemplateShape {
  tokens: TemplateSpans;
  lists: (ListName | undefined)[];
  /** Some text depends on a whole list: no element can be rendered alone. */
  whole: boolean;
}

function shapeOf(template: string): TemplateShape {
  const tokens = Mustache.parse(template);
  let whole = false;
  const lists = tokens.map((t) => {
    const inner = t[4];
    if (t[0] === '#' && isList(t[1]) && Array.isArray(inner) && !namesAList(inner)) return t[1];
    if (namesAList([t])) whole = true;
    return undefined;
  });
  return { tokens, lists, whole };
}

/**
 * The text as one flat string. Mustache builds it a token at a time, and V8
 * keeps such a string as a tree of every piece (~700 pieces for a backend of
 * 100 servers) until something reads it as a whole; kept as a tree, 100,000
 * servers' texts took 87 MB instead of 12. Searching it is such a read.
 */
function flattened(text: string): string {
  text.indexOf('\u0000');
  return text;
}

export type Renderer = (template: string, state: DesiredState, options: RenderOptions) => string;

/** A renderConfig that remembers each element's text between calls; the memory is the caller's, one per renderer. */
export function renderer(): Renderer {
  const writer = new Mustache.Writer();
  const config = { escape: noEscape };
  let kept: { key: string; shape: TemplateShape; texts: Map<Token, WeakMap<Element, string>> } | undefined;
  return (template, state, options) => {
    const key = `${JSON.stringify(options)}\0${template}`;
    if (kept?.key !== key) kept = { key, shape: shapeOf(template), texts: new Map() };
    const { shape, texts } = kept;
    if (shape.whole) return renderConfig(template, state, options);
    const context = new Mustache.Context(rootView(options));
    let text = '';
    shape.tokens.forEach((token, i) => {
      const list = shape.lists[i];
      if (list === undefined) {
        text += writer.renderTokens([token] as string[][], context, {}, template, config);
        return;
      }
      let cache = texts.get(token);
      if (cache === undefined) texts.set(token, (cache = new WeakMap()));
      for (const e of LISTS[list](state)) {
        let part = cache.get(e);
        if (part === undefined) {
          const inner = context.push(elementView(list, e, options));
          part = flattened(writer.renderTokens(token[4] as string[][], inner, {}, template, config));
          cache.set(e, part);
        }
        text += part;
      }
    });
    return options.instanceMark === undefined ? text : `${text}${markSection(options.instanceMark)}`;
  };
}
