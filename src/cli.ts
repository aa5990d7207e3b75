// Command line: flags → options → the command's function. Nothing else lives here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { processIo, type Io } from './io.js';
import { DEFAULT_TEMPLATE_FILE, PACKAGE_ROOT } from './package-paths.js';
import { renderCommand, validateCommand } from './commands/offline.js';

const VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** The option every command that renders shares, with the original's name and default. */
export const haproxySocketPathOption = (): Option =>
  new Option('--haproxySocketPath <path>', 'path of the HAProxy stats socket')
    .default('/tmp/haproxy.status.sock')
    .env('AQUEDUCT_HAPROXY_SOCKET_PATH');

export const templateFileOption = (): Option =>
  new Option('--templateFile <file>', 'mustache template for haproxy.cfg (default: the bundled template)').env(
    'AQUEDUCT_TEMPLATE_FILE',
  );

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('aqueduct')
    .description(
      'Keeps a running HAProxy in line with declared manifests, a Thalassa registry and the Aqueduct REST API',
    )
    .version(VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();

  program
    .command('validate')
    .description('check every manifest under <dir>; exit 0 when all are valid, 1 listing every problem')
    .argument('<dir>', 'manifests directory')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (dir: string, opts: { json?: boolean }) => {
      setExit(await validateCommand(io, dir, { json: opts.json === true }));
    });

  program
    .command('render')
    .description('print the HAProxy config the manifests under <dir> produce')
    .argument('<dir>', 'manifests directory')
    .option('--members <file>', 'JSON file of dynamic backend members: {"<backend>": [{"host": "...", "port": 8080}]}')
    .addOption(templateFileOption())
    .addOption(haproxySocketPathOption())
    .addOption(
      new Option('--statsBind <address:port>', 'also serve the HAProxy stats page on this address').env(
        'AQUEDUCT_STATS_BIND',
      ),
    )
    .action(
      async (
        dir: string,
        opts: { members?: string; templateFile?: string; haproxySocketPath: string; statsBind?: string },
      ) => {
        setExit(
          await renderCommand(io, dir, {
            templateFile: opts.templateFile ?? DEFAULT_TEMPLATE_FILE,
            render: {
              statsSocketPath: opts.haproxySocketPath,
              ...(opts.statsBind === undefined ? {} : { statsBind: opts.statsBind }),
            },
            ...(opts.members === undefined ? {} : { membersFile: opts.members }),
          }),
        );
      },
    );

  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    io.err(`aqueduct: ${(err as Error).message}\n`);
    return 2;
  }
  return code;
}

// Run directly (tsx src/cli.ts …); the installed bins import main() instead.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv);
}
