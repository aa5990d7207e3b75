// Everything that can be checked before HAProxy is touched: HAProxy found,
// directories there and writable, the template and render options sound.
// Fails with AqueductError('startup') and a message saying what to do.
import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { renderOptionsOf, type RunConfig } from './config.js';
import { AqueductError, formatIssue } from './core/issues.js';
import type { OwnAddresses } from './core/manifests/bind.js';
import { checkRenderOptions, type RenderOptions } from './core/rendering/render.js';
import { featuresOf, haproxyBuild, type HaproxyBuild } from './haproxy/check.js';
import { DEFAULT_TEMPLATE_FILE } from './package-paths.js';
import { readTemplateFile } from './sources/template-file.js';
import { ownAddresses } from './own-addresses.js';
import { AcmeIssuer } from './tls/acme-issuer.js';

async function writableDir(dir: string, what: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch(() => undefined);
  const isDir = (await stat(dir).catch(() => undefined))?.isDirectory() === true;
  const writable =
    isDir &&
    (await access(dir, constants.W_OK).then(
      () => true,
      () => false,
    ));
  if (!writable) throw new AqueductError('startup', `${what}: directory ${dir} is missing or not writable`);
}

export interface Preflight {
  template: string;
  render: RenderOptions;
  haproxyVersion: string;
  /** What haproxy -vv said: the version as printed and the build options (/status, aqueduct_haproxy_info). */
  haproxyBuild: HaproxyBuild;
  /** What Aqueduct owns: no frontend may bind it, no member may point at it. */
  own: OwnAddresses;
  /** This instance's mark: in every config it renders, and what its HAProxy's workers must report. */
  mark: string;
  /** <stateDir>/tls: the certificate files and crt-lists HAProxy loads (render.tlsDir). */
  tlsDir: string;
}

/** ACME's directories and its challenge map, empty: HAProxy loads the map with the config. */
async function makeAcmeChallengeMap(stateDir: string, map: string): Promise<void> {
  await mkdir(AcmeIssuer.certificatesDir(path.join(stateDir, 'acme')), { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(map), { recursive: true, mode: 0o700 });
  await writeFile(map, '', { flag: 'a' });
}

/** Checks everything that can be checked before touching HAProxy; throws AqueductError('startup') with a clear message. */

export async function preflight(config: RunConfig, log: Logger): Promise<Preflight> {
  let build: HaproxyBuild;
  try {
    build = await haproxyBuild(config.haproxyBin);
  } catch (err) {
    throw new AqueductError(
      'startup',
      `${(err as Error).message} (install HAProxy, e.g. apt-get install haproxy, or pass --haproxyBin)`,
    );
  }
  const { version } = build;
  log.info({ haproxy: build.versionText, buildOptions: build.buildOptions }, 'found HAProxy');
  const dirStat = await stat(config.manifests).catch(() => undefined);
  if (dirStat === undefined && !config.manifestsExplicit) {
    await mkdir(config.manifests, { recursive: true });
    log.info({ manifests: config.manifests }, 'created the manifests directory');
  } else if (dirStat?.isDirectory() !== true) {
    throw new AqueductError('startup', `manifests directory not found: ${config.manifests}`);
  }
  await writableDir(path.dirname(config.haproxyCfgPath), '--haproxyCfgPath');
  await writableDir(path.dirname(config.haproxySocketPath), '--haproxySocketPath');
  await writableDir(config.stateDir, '--stateDir');
  if (config.haproxyMode === 'managed')
    await writableDir(path.dirname(config.haproxyMasterSocket), '--haproxyMasterSocket');
  if (config.haproxyMode === 'pidfile') await writableDir(path.dirname(config.haproxyPidPath), '--haproxyPidPath');
  const template = await readTemplateFile(config.templateFile ?? DEFAULT_TEMPLATE_FILE);
  const render = renderOptionsOf(config, featuresOf(version));
  if (render.acmeChallengeMap !== undefined) await makeAcmeChallengeMap(config.stateDir, render.acmeChallengeMap);
  const { instanceMark: mark, tlsDir } = render;
  const problems = [...template.issues, ...checkRenderOptions(render)];
  if (problems.length > 0 || template.template === undefined)
    throw new AqueductError('startup', problems.map(formatIssue).join('; '), problems);
  return {
    template: template.template,
    render,
    haproxyVersion: version.join('.'),
    haproxyBuild: build,
    own: await ownAddresses(config),
    mark,
    tlsDir,
  };
}
