/** Builds what commands share: validated config, logger, database, metrics and health. */
import pkg from '../../package.json' with { type: 'json' };
import { type Config, loadConfig, type SectionName } from '../config/index.ts';
import { type DatabaseHandle, openDatabase } from '../db/index.ts';
import { HealthRegistry } from '../health.ts';
import { createLogger, type Logger } from '../log.ts';
import { createMetricsRegistry, type Registry } from '../metrics.ts';
import type { StageContext } from '../stage.ts';
import type { CommandIo } from './command.ts';

export const VERSION: string = pkg.version;

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Registry;
  health: HealthRegistry;
  /** Opens (and migrates) the database on first use. */
  database(): DatabaseHandle;
  /** A stage context bound to a job name. */
  stage(job: string, signal?: AbortSignal, now?: () => number): StageContext;
  close(): void;
}

export function createRuntime(
  configPath: string | undefined,
  sections: readonly SectionName[],
  io: CommandIo,
): Runtime {
  const warnings: string[] = [];
  const notices: string[] = [];
  const config = loadConfig({
    path: configPath,
    env: io.env,
    sections,
    onIgnoredProblem: (m) => warnings.push(m),
    onWarning: (m) => notices.push(m),
  });
  const log = createLogger({ level: config.logging.level, format: config.logging.format });
  for (const w of warnings)
    log.warn({ problem: w }, 'config problem in a section this command does not use; using defaults there');
  for (const n of notices) log.warn({ problem: n }, 'config warning');
  const metrics = createMetricsRegistry();
  const health = new HealthRegistry();
  let db: DatabaseHandle | undefined;
  const runtime: Runtime = {
    config,
    log,
    metrics,
    health,
    database() {
      db ??= openDatabase(config.database.url);
      return db;
    },
    stage(job, signal = new AbortController().signal, now = Date.now) {
      return {
        config,
        db: runtime.database(),
        log: log.child({ job }),
        metrics,
        health,
        signal,
        now,
        interactive: io.interactive,
      };
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
  return runtime;
}
