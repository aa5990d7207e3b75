// Reads a mustache template for the HAProxy config and checks that it parses.
import { readFile } from 'node:fs/promises';
import type { Issue } from '../core/issues.js';
import { checkTemplate } from '../core/rendering/render.js';

export async function readTemplateFile(file: string): Promise<{ template?: string; issues: Issue[] }> {
  let template: string;
  try {
    template = await readFile(file, 'utf8');
  } catch (err) {
    return {
      issues: [{ code: 'template', file, path: '', message: `cannot read template: ${(err as Error).message}` }],
    };
  }
  const issues = checkTemplate(template, file);
  return issues.length > 0 ? { issues } : { template, issues };
}
