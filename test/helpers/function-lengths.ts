// Lengths of functions in TypeScript files, read with the compiler's own
// parser: the architecture test keeps every function short enough to read
// at once, and every test short enough to say one thing.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface FunctionLength {
  /** file:line name */
  where: string;
  lines: number;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name !== undefined) return named.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText();
  if (ts.isCallExpression(parent)) {
    const [first] = parent.arguments;
    const label = first !== undefined && ts.isStringLiteral(first) ? ` ${JSON.stringify(first.text)}` : '';
    return `${parent.expression.getText()}(…)${label}`;
  }
  return '<anonymous>';
}

/** Functions (declarations, methods, arrows, callbacks) of every .ts file under dir that `select` keeps. */
export function functionLengths(
  dir: string,
  select: (node: ts.FunctionLikeDeclaration) => boolean = () => true,
): FunctionLength[] {
  const out: FunctionLength[] = [];
  for (const file of filesUnder(dir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined && select(node)) {
        const start = lineOf(node.getStart());
        out.push({ where: `${file}:${start} ${nameOf(node)}`, lines: lineOf(node.end) - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** A test's own callback: the function passed to it(…) or test(…). */
export function isTestBody(node: ts.FunctionLikeDeclaration): boolean {
  const call = node.parent;
  return (
    ts.isCallExpression(call) &&
    /^(it|test)$/.test(call.expression.getText()) &&
    call.arguments.includes(node as ts.Expression)
  );
}

export interface ClassSize {
  /** file:line name */
  where: string;
  lines: number;
  /** Properties, parameter properties included. */
  fields: number;
}

/** Every class of every .ts file under dir: its length and its number of fields. */
export function classSizes(dir: string): ClassSize[] {
  const out: ClassSize[] = [];
  for (const file of filesUnder(dir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
    const visit = (node: ts.Node): void => {
      if (ts.isClassLike(node)) {
        const properties = node.members.filter(ts.isPropertyDeclaration).length;
        const ctor = node.members.find(ts.isConstructorDeclaration);
        const parameterProperties = (ctor?.parameters ?? []).filter(
          (p) => (ts.getModifiers(p)?.length ?? 0) > 0,
        ).length;
        const start = lineOf(node.getStart());
        const name = node.name?.getText() ?? '<anonymous>';
        out.push({
          where: `${file}:${start} ${name}`,
          lines: lineOf(node.end) - start + 1,
          fields: properties + parameterProperties,
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/** Relative imports of every .ts file under dir, as [file, resolved target]. */
export function importsUnder(dir: string): [string, string][] {
  return filesUnder(dir).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)].map(
      (m) => [file, path.join(path.dirname(file), m[1] ?? '')] as [string, string],
    ),
  );
}
