/** The shape of a CLI command and the context the dispatcher hands it. */
import type { ParseArgsConfig } from 'node:util';
import type { SectionName } from '../config/index.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandIo {
  /** A command's own output (reports, JSON): stdout. */
  out: (text: string) => void;
  /** Messages for the person at the terminal: stderr. */
  err: (text: string) => void;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  interactive: boolean;
}

export interface Command {
  /** `sync`, or `nlp train` for a sub-command. */
  name: string;
  summary: string;
  /** Usage line after the program name, e.g. `sync [--room ID]...`. */
  usage: string;
  /** Extra help text: what it does, what it needs. */
  description: string;
  options: OptionSpec;
  /** Help lines for each option, keyed by option name. */
  optionHelp: Record<string, string>;
  allowPositionals?: boolean;
  /** Config sections the command validates; problems elsewhere are only warned about. */
  sections: readonly SectionName[];
  /** Returns the process exit code. */
  run(args: {
    values: ParsedValues;
    positionals: string[];
    configPath: string | undefined;
    io: CommandIo;
  }): Promise<number>;
}

/** Exit codes: 0 ok, 1 the work failed, 2 bad usage or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
