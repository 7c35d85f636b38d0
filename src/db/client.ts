/**
 * Opens the database named by `[database] url`, tunes SQLite (WAL, foreign keys, busy timeout) and applies
 * the committed migrations from schemas/migrations. Callers use the repository modules, never raw SQL.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { AppError, ConfigError } from '../errors.ts';
import { tuneConnection } from './pragmas.ts';
import { flushGroupCommit } from './group-commit.ts';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Db = BetterSQLite3Database<Schema>;

export interface DatabaseHandle {
  readonly db: Db;
  /** The raw connection, for the few places that need prepared statements in hot loops. */
  readonly sqlite: Database.Database;
  /** Absolute file path, or ':memory:'. */
  readonly path: string;
  /** Checkpoints the WAL and closes the connection. Safe to call twice. */
  close(): void;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../schemas/migrations', import.meta.url));

/** Parses `sqlite:<path>` / `sqlite::memory:` into a file path. */
export function sqlitePath(url: string): string {
  if (!url.startsWith('sqlite:')) {
    throw new ConfigError('database.url', `database.url: unsupported database "${url}"; use "sqlite:<path>"`);
  }
  const rest = url.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '') return ':memory:';
  return resolve(rest.replace(/^\/\/(?=\/)/, ''));
}

export interface OpenOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  readonly?: boolean;
}

/** Opens (creating the file and its folder if missing) and migrates the database. */
export function openDatabase(url: string, opts: OpenOptions = {}): DatabaseHandle {
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { readonly: opts.readonly ?? false });
  } catch (err) {
    throw new AppError('DB_OPEN_FAILED', `cannot open database ${path}: ${(err as Error).message}`, { cause: err });
  }
  tuneConnection(sqlite, path, opts.readonly ?? false);
  const db = drizzle(sqlite, { schema });
  if (opts.migrate ?? true) applyMigrations(db);
  let closed = false;
  return {
    db,
    sqlite,
    path,
    close() {
      if (closed) return;
      closed = true;
      flushGroupCommit(sqlite);
      if (path !== ':memory:' && !opts.readonly) sqlite.pragma('wal_checkpoint(TRUNCATE)');
      sqlite.close();
    },
  };
}

/** Applies the committed SQL migrations; already applied ones are skipped. */
export function applyMigrations(db: Db): void {
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (err) {
    throw new AppError('DB_MIGRATION_FAILED', `database migration failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs `fn` in one synchronous transaction. Never await network I/O inside. */
export function transaction<T>(handle: DatabaseHandle, fn: () => T): T {
  return handle.sqlite.transaction(fn)();
}
