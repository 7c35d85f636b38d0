/**
 * The `matrix-crm-bridge` command line: global `--config PATH` (before or after the command), `--help`
 * everywhere, one module per command in ./commands.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, describeError, NotConfiguredError } from '../errors.ts';
import { type Command, type CommandIo, EXIT } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { VERSION } from './runtime.ts';

const PROGRAM = 'matrix-crm-bridge';

/** Entry point used by bin/matrix-crm-bridge.mjs. Sets process.exitCode; never calls process.exit on success. */
export async function runCli(argv: string[], io: Partial<CommandIo> = {}): Promise<number> {
  const fullIo: CommandIo = {
    out: io.out ?? ((t) => process.stdout.write(t)),
    err: io.err ?? ((t) => process.stderr.write(t)),
    stdin: io.stdin ?? process.stdin,
    env: io.env ?? process.env,
    interactive: io.interactive ?? process.stderr.isTTY === true,
  };
  const code = await dispatch(argv, fullIo);
  process.exitCode = code;
  return code;
}

async function dispatch(argv: string[], io: CommandIo): Promise<number> {
  const { configPath, rest, error } = extractConfig(argv);
  if (error) {
    io.err(`${PROGRAM}: ${error}\n`);
    return EXIT.usage;
  }
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || rest[0] === 'help') {
    io.out(globalHelp());
    return EXIT.ok;
  }
  if (rest[0] === '--version' || rest[0] === '-V') {
    io.out(`${VERSION}\n`);
    return EXIT.ok;
  }
  const { command, args } = findCommand(rest);
  if (!command) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${rest[0]} `));
    if (group.length > 0 && (rest.length === 1 || rest[1] === '--help' || rest[1] === '-h')) {
      // `nlp` alone is a usage error: its help goes to stderr, like every other usage message.
      if (rest.length === 1) {
        io.err(groupHelp(rest[0], group));
        return EXIT.usage;
      }
      io.out(groupHelp(rest[0], group));
      return EXIT.ok;
    }
    io.err(
      `${PROGRAM}: unknown command "${rest.slice(0, group.length > 0 ? 2 : 1).join(' ')}". Run "${PROGRAM} --help" for the list.\n`,
    );
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      options: command.options,
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    io.err(`${PROGRAM} ${command.name}: ${(err as Error).message}\nUsage: ${PROGRAM} ${command.usage}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals, configPath, io });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${PROGRAM} ${command.name}: configuration problem:\n  ${err.problems.join('\n  ')}\n`);
      return EXIT.usage;
    }
    if (err instanceof NotConfiguredError) {
      io.err(`${PROGRAM} ${command.name}: ${err.message}\n`);
      return EXIT.usage;
    }
    io.err(`${PROGRAM} ${command.name}: ${describeError(err)}\n`);
    return EXIT.failed;
  }
}

function extractConfig(argv: string[]): { configPath?: string; rest: string[]; error?: string } {
  const rest: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--config' || a === '-c') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) return { rest, error: '--config needs a file path' };
      configPath = v;
      i++;
    } else if (a.startsWith('--config=')) {
      configPath = a.slice('--config='.length);
      if (!configPath) return { rest, error: '--config needs a file path' };
    } else rest.push(a);
  }
  return { configPath, rest };
}

function findCommand(rest: string[]): { command?: Command; args: string[] } {
  const two = `${rest[0]} ${rest[1] ?? ''}`;
  const sub = COMMANDS.find((c) => c.name === two);
  if (sub) return { command: sub, args: rest.slice(2) };
  const one = COMMANDS.find((c) => c.name === rest[0]);
  return one ? { command: one, args: rest.slice(1) } : { args: [] };
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `${PROGRAM} ${VERSION}: Matrix appservice for Wazo chat, and a sync → classify → export pipeline into Twenty CRM`,
    '',
    `Usage: ${PROGRAM} [--config PATH] <command> [options]`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --config PATH  config file (default: $MCB_CONFIG or ./config.toml); accepted before or after the command',
    '  --help         help for any command, e.g. "matrix-crm-bridge sync --help"',
    '  --version      print the version',
    '',
  ].join('\n');
}

function groupHelp(group: string, cmds: Command[]): string {
  return [
    `Usage: ${PROGRAM} ${group} <command>`,
    '',
    ...cmds.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`),
    '',
  ].join('\n');
}

/** Help of one command, built from its option table. */
export function commandHelp(c: Command): string {
  const lines = [`Usage: ${PROGRAM} ${c.usage}`, '', c.summary, ''];
  if (c.description) lines.push(c.description.trim(), '');
  const opts = Object.entries(c.options);
  lines.push('Options:');
  for (const [name, spec] of opts) {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(24)} ${c.optionHelp[name] ?? ''}`);
  }
  lines.push(`  ${'--config PATH'.padEnd(24)} config file (default: $MCB_CONFIG or ./config.toml)`);
  lines.push(`  ${'-h, --help'.padEnd(24)} this help`);
  if (c.sections.length > 0) lines.push('', `Config sections used: ${c.sections.map((s) => `[${s}]`).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

// Run directly (`node src/cli/main.ts ...`): the bin launcher re-executes this file on old Node versions.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli(process.argv.slice(2));
}
