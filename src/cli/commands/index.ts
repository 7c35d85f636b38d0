import type { Command } from '../command.ts';
import { migrateCommand } from './migrate.ts';
import { startCommand } from './start.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [startCommand, migrateCommand];
