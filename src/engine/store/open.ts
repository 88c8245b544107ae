// Opening a runs database: the pragmas, the migrations, and the read-only fallbacks for queries.

import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MIGRATIONS } from './migrations.ts';

/** The folder a read-only copy of a database lives in, under the temporary folder (see `openCopy`). */
const READONLY_COPY_PREFIX = 'nas-studio-readonly-';

/** How often, and how far apart, an opening that found the database locked is tried (see `openDatabase`). */
const OPEN_ATTEMPTS = 50;
const OPEN_RETRY_MS = 100;

/** Opens (creating or migrating as needed) the database at `path`; `readonly` as in `StoreOptions`. */
export function openDatabase(path: string, readonly: boolean): Database.Database {
  if (readonly && path !== ':memory:' && existsSync(path)) {
    const db = openReadonly(path);
    const version = checkedVersion(db, path);
    if (version === MIGRATIONS.length) return db;
    db.close();
  }
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // SQLite skips the busy handler for some locks taken while another process turns a new database
  // to WAL or recovers its WAL: such an opening is tried again, within the busy timeout's 5 s.
  for (let attempt = 1; ; attempt++) {
    try {
      return openWritable(path);
    } catch (error) {
      if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) || attempt >= OPEN_ATTEMPTS) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, OPEN_RETRY_MS);
    }
  }
}

/** Closes a database opened by `openDatabase`, removing the private copy a read-only opening may have made. */
export function closeDatabase(db: Database.Database, path: string): void {
  const file = db.name;
  db.close();
  if (file !== path && basename(dirname(file)).startsWith(READONLY_COPY_PREFIX)) rmSync(dirname(file), { recursive: true, force: true });
}

function openWritable(path: string): Database.Database {
  const db = new Database(path);
  try {
    // The busy timeout belongs to this connection (it writes nothing), and lets the version be read
    // while another process switches a new database to WAL.
    db.pragma('busy_timeout = 5000');
    // Before any pragma that writes: a newer NAS Studio's database is refused untouched.
    checkedVersion(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function openReadonly(path: string): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // Reading a WAL database creates its shared-memory index beside it; a read-only folder refuses that.
    db.pragma('user_version', { simple: true });
    return db;
  } catch (error) {
    // SQLITE_CANTOPEN or SQLITE_READONLY_CANTINIT, depending on what is left beside it.
    if (!(error instanceof Database.SqliteError && /^SQLITE_(CANTOPEN|READONLY)/.test(error.code))) throw error;
    return openCopy(path);
  }
}

/**
 * SQLite's immutable mode needs URI filenames, which better-sqlite3 builds without: a private copy
 * (with its WAL) in the temporary folder stands in. It is a snapshot, removed when the store closes.
 */
function openCopy(path: string): Database.Database {
  const folder = mkdtempSync(join(tmpdir(), READONLY_COPY_PREFIX));
  const copy = join(folder, basename(path));
  copyFileSync(path, copy);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
  return new Database(copy, { readonly: true, fileMustExist: true });
}

function checkedVersion(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new Error(`${path} has schema version ${version}, newer than this NAS Studio knows (${MIGRATIONS.length}); update NAS Studio`);
  }
  return version;
}

/** Immediate, and re-reading the version inside: two processes opening a new database at once migrate it once. */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    for (let next = checkedVersion(db, path); next < MIGRATIONS.length; next++) {
      db.exec(MIGRATIONS[next]);
      db.pragma(`user_version = ${next + 1}`);
    }
  }).immediate();
}
