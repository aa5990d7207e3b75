// Test shorthand for the pure path: manifest files → config text.
import { readFileSync } from 'node:fs';
import { buildDesiredState } from '../../src/core/rendering/desired-state.js';
import { loadManifestSet, type ManifestFile } from '../../src/core/manifests/manifests.js';
import type { MemberMap } from '../../src/core/manifests/model.js';
import { renderConfig, type RenderOptions } from '../../src/core/rendering/render.js';
import { DEFAULT_TEMPLATE_FILE } from '../../src/package-paths.js';

export const DEFAULT_TEMPLATE = readFileSync(DEFAULT_TEMPLATE_FILE, 'utf8');
export const TEST_RENDER_OPTIONS: RenderOptions = { statsSocketPath: '/tmp/aqueduct-test.sock' };

export function renderFiles(files: ManifestFile[], members: MemberMap = {}, options = TEST_RENDER_OPTIONS) {
  const set = loadManifestSet(files);
  const state = buildDesiredState(
    set.frontends.map((f) => f.manifest),
    set.backends.map((b) => b.manifest),
    members,
  );
  return { set, state, config: renderConfig(DEFAULT_TEMPLATE, state, options) };
}
