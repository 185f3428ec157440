import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrateSchema, SchemaTooNewError } from '../src/provider/store/migrations.js';
import { createSqliteStore } from '../src/provider/store/sqlite-store.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('provider store migrations', () => {
  let temp: TempStore | undefined;
  afterEach(() => temp?.dispose());

  it('record every applied migration in schema_version and run none twice', async () => {
    temp = await createTempStore();
    await temp.store.close();
    const db = new Database(join(temp.dataDir, 'provider.sqlite'));
    try {
      const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').all();
      expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      expect(migrateSchema(db)).toEqual([]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    await temp.reopen();
  });

  it('apply only the migrations a database lacks', () => {
    const db = new Database(':memory:');
    try {
      const first = migrateSchema(db, [{ version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' }]);
      const second = migrateSchema(db, [
        { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' },
        { version: 2, name: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT' },
      ]);
      expect(first).toEqual([1]);
      expect(second).toEqual([2]);
    } finally {
      db.close();
    }
  });

  it('leave nothing behind when a migration fails halfway', () => {
    const db = new Database(':memory:');
    try {
      expect(() =>
        migrateSchema(db, [{ version: 1, name: 'broken', sql: 'CREATE TABLE a (x INTEGER); NOT SQL' }]),
      ).toThrow();
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").get()).toBeUndefined();
      expect(db.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('refuse a database written by newer code', async () => {
    temp = await createTempStore();
    await temp.store.close();
    const db = new Database(join(temp.dataDir, 'provider.sqlite'));
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (999, ?, 0)').run('future');
    db.close();
    await expect(createSqliteStore({ dataDir: temp.dataDir })).rejects.toBeInstanceOf(SchemaTooNewError);
  });
});
