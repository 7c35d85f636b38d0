import type { Command } from '../command.ts';
import { classifyCommand } from './classify.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { forgetCommand } from './forget.ts';
import { generateRegistrationCommand } from './generate-registration.ts';
import { migrateCommand } from './migrate.ts';
import { nlpClassifyCommand, nlpEvaluateCommand, nlpTrainCommand } from './nlp.ts';
import { reportCommand } from './report.ts';
import { startCommand } from './start.ts';
import { syncCommand } from './sync.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  migrateCommand,
  generateRegistrationCommand,
  syncCommand,
  classifyCommand,
  exportCommand,
  forgetCommand,
  nlpTrainCommand,
  nlpEvaluateCommand,
  nlpClassifyCommand,
  reportCommand,
  demoCommand,
];
