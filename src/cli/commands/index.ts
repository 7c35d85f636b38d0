import type { Command } from '../command.ts';
import { classifyCommand } from './classify.ts';
import { generateRegistrationCommand } from './generate-registration.ts';
import { migrateCommand } from './migrate.ts';
import { nlpClassifyCommand, nlpEvaluateCommand, nlpTrainCommand } from './nlp.ts';
import { startCommand } from './start.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  migrateCommand,
  generateRegistrationCommand,
  classifyCommand,
  nlpTrainCommand,
  nlpEvaluateCommand,
  nlpClassifyCommand,
];
