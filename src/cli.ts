// Command line: flags → options → the command's function. Nothing else lives here.
import { systemClock } from './clock.js';
import { diffCommand } from './commands/diff.js';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { processIo, type Io } from './io.js';
import {
  parseInteger,
  RENDER_SHAPING_FLAGS,
  renderOptionsOf,
  resolveRenderShaping,
  resolveRunConfig,
  type RenderShapingFlags,
  type ValueSource,
} from './config.js';
import { AqueductError } from './core/issues.js';
import { createLogger, defaultLogFormat } from './log.js';
import { startAqueduct } from './main.js';
import { startRegistryServer } from './registry-server/server.js';
import { envName, RUN_OPTIONS, type OptionSpec } from './options.js';
import { DEFAULT_TEMPLATE_FILE, PACKAGE_VERSION } from './package-paths.js';
import { renderCommand, validateCommand } from './commands/offline.js';

const VERSION = PACKAGE_VERSION;

export const templateFileOption = (): Option =>
  new Option('--templateFile <file>', 'mustache template for haproxy.cfg (default: the bundled template)').env(
    'AQUEDUCT_TEMPLATE_FILE',
  );

/** The same policy switch as `aqueduct run`'s, so an offline check agrees with the running loop. */
export const unsafeNativesOption = (): Option =>
  new Option(
    '--allowUnsafeNatives',
    'accept natives that open sections, run programs or load code (as aqueduct run --allowUnsafeNatives)',
  ).env('AQUEDUCT_ALLOW_UNSAFE_NATIVES');

/**
 * `aqueduct run`'s options that shape the config (paths, global, stats and
 * metrics binds, access log, ACME), with run's names, defaults and
 * environment variables: given the flags a run has, render and diff print
 * the bytes it writes.
 */
const renderShapingOptions = (): Option[] =>
  RENDER_SHAPING_FLAGS.map((flag) => {
    const spec = RUN_OPTIONS.find((o) => o.flag === flag);
    if (spec === undefined) throw new Error(`no run option ${flag}`);
    return optionFor(spec);
  });

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('aqueduct')
    .description(
      'Keeps a running HAProxy in line with declared manifests, a Thalassa registry and the Aqueduct REST API',
    )
    .version(VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  for (const add of [validateCommandOf, renderCommandOf, diffCommandOf, registryCommandOf, runCommandOf])
    add(program, io, setExit);
  return program;
}

function validateCommandOf(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description(
      'check every manifest under <dir>, and run haproxy -c on what they render to when a haproxy binary is found; exit 0 when all is valid, 1 listing every problem',
    )
    .argument('<dir>', 'manifests directory')
    .option('--json', 'print the result as JSON on stdout')
    .addOption(unsafeNativesOption())
    .addOption(templateFileOption())
    .addOption(
      new Option('--haproxyBin <path>', 'the haproxy binary for haproxy -c')
        .default('haproxy')
        .env('AQUEDUCT_HAPROXY_BIN'),
    )
    .option('--skipHaproxyCheck', 'check the manifests only, without haproxy -c')
    .action(
      async (
        dir: string,
        opts: {
          json?: boolean;
          allowUnsafeNatives?: boolean;
          templateFile?: string;
          haproxyBin: string;
          skipHaproxyCheck?: boolean;
        },
      ) => {
        setExit(
          await validateCommand(io, dir, {
            json: opts.json === true,
            allowUnsafeNatives: opts.allowUnsafeNatives === true,
            templateFile: opts.templateFile ?? DEFAULT_TEMPLATE_FILE,
            ...(opts.skipHaproxyCheck !== true && { haproxyBin: opts.haproxyBin }),
          }),
        );
      },
    );
}

function renderCommandOf(program: Command, io: Io, setExit: (code: number) => void): void {
  const render = program
    .command('render')
    .description('print the HAProxy config the manifests under <dir> produce')
    .argument('<dir>', 'manifests directory')
    .option('--members <file>', 'JSON file of dynamic backend members: {"<backend>": [{"host": "...", "port": 8080}]}')
    .option(
      '--writeMaps',
      'also write the routing maps the config reads into <haproxyCfgPath>.maps, for an HAProxy started from this config',
    )
    .addOption(templateFileOption())
    .addOption(unsafeNativesOption());
  for (const o of renderShapingOptions()) render.addOption(o);
  render.action(
    async (
      dir: string,
      opts: RenderShapingFlags & {
        members?: string;
        templateFile?: string;
        allowUnsafeNatives?: boolean;
        writeMaps?: boolean;
      },
    ) => {
      setExit(
        await renderCommand(io, dir, {
          templateFile: opts.templateFile ?? DEFAULT_TEMPLATE_FILE,
          allowUnsafeNatives: opts.allowUnsafeNatives === true,
          writeMaps: opts.writeMaps === true,
          render: renderOptionsOf(resolveRenderShaping(opts)),
          ...(opts.members === undefined ? {} : { membersFile: opts.members }),
        }),
      );
    },
  );
}

function diffCommandOf(program: Command, io: Io, setExit: (code: number) => void): void {
  const diff = program
    .command('diff')
    .description(
      'what applying the manifests under <dir> would do: the plan (noop, runtime, reload) with its reasons and a unified diff of the config; exit 0 nothing would change, 1 something would, 2 on errors',
    )
    .argument('<dir>', 'manifests directory')
    .option('--api <url>', 'a running Aqueduct (token from AQUEDUCT_API_READ_TOKEN or AQUEDUCT_API_TOKEN)')
    .option('--config <file>', 'compare with this HAProxy config instead, rendering here')
    .option('--json', 'print the result as JSON on stdout')
    .option('--members <file>', 'with --config: JSON file of dynamic backend members, as for render')
    .addOption(templateFileOption())
    .addOption(unsafeNativesOption());
  for (const o of renderShapingOptions()) diff.addOption(o);
  diff.action(
    async (
      dir: string,
      opts: RenderShapingFlags & {
        api?: string;
        config?: string;
        json?: boolean;
        members?: string;
        templateFile?: string;
        allowUnsafeNatives?: boolean;
      },
      cmd: Command,
    ) => {
      const token = process.env['AQUEDUCT_API_READ_TOKEN'] ?? process.env['AQUEDUCT_API_TOKEN'];
      // Compared with a live file, the file is where run installs it, unless --haproxyCfgPath says otherwise.
      const cfgPath =
        opts.config !== undefined && cmd.getOptionValueSource('haproxyCfgPath') === 'default'
          ? opts.config
          : opts.haproxyCfgPath;
      setExit(
        await diffCommand(io, dir, {
          json: opts.json === true,
          templateFile: opts.templateFile ?? DEFAULT_TEMPLATE_FILE,
          allowUnsafeNatives: opts.allowUnsafeNatives === true,
          render: renderOptionsOf(resolveRenderShaping({ ...opts, haproxyCfgPath: cfgPath })),
          ...(opts.api !== undefined && { api: opts.api }),
          ...(opts.config !== undefined && { config: opts.config }),
          ...(opts.members !== undefined && { membersFile: opts.members }),
          ...(token !== undefined && token !== '' && { token }),
        }),
      );
    },
  );
}

function registryCommandOf(program: Command, _io: Io, setExit: (code: number) => void): void {
  program
    .command('registry')
    .description(
      "run a small service registry with Thalassa's HTTP API that publishes events over socket.io (for --registry socketio)",
    )
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1').env('AQUEDUCT_REGISTRY_HOST'))
    .addOption(
      new Option('--port <n>', "port of the HTTP API and socket.io (Thalassa's API port)")
        .default(9000)
        .env('AQUEDUCT_REGISTRY_PORT')
        .argParser((raw: string) => integerArg('--port', raw, 1, 65535)),
    )
    .addOption(
      new Option('--ttl <seconds>', 'time to live of a registration that names no secondsToExpire')
        .default(10)
        .argParser((raw: string) => integerArg('--ttl', raw, 1, 86_400)),
    )
    .addOption(new Option('--persist <file>', 'keep registrations in this JSON file across restarts'))
    .option('--debug', 'debug logging')
    .action(async (opts: { host: string; port: number; ttl: number; persist?: string; debug?: boolean }) => {
      const log = createLogger({ level: opts.debug === true ? 'debug' : 'info', format: defaultLogFormat() });
      const server = await startRegistryServer({
        host: opts.host,
        port: opts.port,
        defaultTtlSeconds: opts.ttl,
        reapIntervalMs: 500,
        ...(opts.persist !== undefined && { persistFile: opts.persist }),
        log,
        clock: systemClock,
      });
      await new Promise<void>((resolve) => {
        const onSignal = () => void server.stop().then(resolve);
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      setExit(0);
    });
}

function runCommandOf(program: Command, _io: Io, setExit: (code: number) => void): void {
  const run = program
    .command('run')
    .description(
      'keep a real HAProxy in line with the manifests: watch, plan, check, apply (what thalassa-aqueduct does)',
    );
  for (const spec of RUN_OPTIONS) run.addOption(optionFor(spec));
  run.action(async (_opts: unknown, cmd: Command) => {
    const config = resolveRunConfig(cmd.opts(), (flag) => cmd.getOptionValueSource(flag) as ValueSource, process.env);
    const log = createLogger({
      level: config.logLevel,
      format: config.logFormat,
      ...(config.label === undefined ? {} : { label: config.label }),
    });
    // Listen before starting: a signal during startup is a stop request, not Node's default exit.
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    const aqueduct = await startAqueduct(config, log);
    const signal = await signalled;
    log.info({ signal }, 'signal received');
    await aqueduct.stop();
    setExit(0);
    // Work abandoned by the bounded stop (a reconcile waiting on a socket that never answers) must not
    // keep the process alive past it: once the log has had a moment to flush, it ends.
    setTimeout(() => process.exit(), EXIT_AFTER_STOP_MS).unref();
  });
}

/** How long a stopped `run` may take to exit on its own before it is ended. */
const EXIT_AFTER_STOP_MS = 1000;

function integerArg(flag: string, raw: string, min: number, max: number): number {
  try {
    return parseInteger(flag.replace(/^--/, ''), raw, min, max);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A commander option from its spec: flag, env var, default, choices, integer parsing. */
function optionFor(spec: OptionSpec): Option {
  if (spec.type === 'boolean') {
    // Booleans read their env var in resolveRunConfig, which understands "false" and "0".
    return new Option(`--${spec.flag}`, `${spec.description} [env: ${envName(spec.flag)}]`);
  }
  const option = new Option(`--${spec.flag} <${spec.type === 'integer' ? 'n' : 'value'}>`, spec.description).env(
    envName(spec.flag),
  );
  if (spec.default !== undefined) option.default(spec.default);
  if (spec.choices !== undefined) option.choices(spec.choices);
  if (spec.type === 'integer') {
    option.argParser((raw: string) => {
      try {
        return parseInteger(
          spec.flag,
          raw,
          spec.flag.endsWith('Port') || spec.flag === 'port' ? 1 : 0,
          spec.flag.endsWith('Port') || spec.flag === 'port' ? 65535 : undefined,
        );
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
  }
  return option;
}

/** The legacy binary's help names it (`thalassa-aqueduct [options]`), not the command it runs. */
function asEntryOf(program: Command, commandName: string): void {
  const command = program.commands.find((c) => c.name() === commandName);
  if (command === undefined) return;
  const entry = LEGACY_ENTRY;
  program.name(entry);
  command
    .description(
      `${command.description()}\n\n${entry} is the original's command: the same as \`aqueduct ${commandName}\`.`,
    )
    .configureHelp({ commandUsage: () => `${entry} [options]` });
}

const LEGACY_ENTRY = 'thalassa-aqueduct';

/**
 * Runs the CLI; resolves to the exit code. With defaultCommand (the
 * thalassa-aqueduct binary), arguments that name no command run it, so the
 * original's command lines work unchanged.
 */
export async function main(argv: readonly string[], io: Io = processIo, defaultCommand?: string): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  let args = [...argv];
  if (defaultCommand !== undefined) {
    asEntryOf(program, defaultCommand);
    const first = args[2];
    const known = program.commands.some((c) => c.name() === first);
    const asks = first === '--version' || first === '-V' || first === 'help';
    if (!known && !asks) args = [...args.slice(0, 2), defaultCommand, ...args.slice(2)];
  }
  try {
    await program.parseAsync(args);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`aqueduct: ${(err as Error).message}\n`);
    return err instanceof AqueductError ? 2 : 1;
  }
  return code;
}

// Run directly (tsx src/cli.ts …); the installed bins import main() instead.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv);
}
