import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createOrm, migrate, type Orm } from '../../src/db/orm';
import { testDatabaseUrl } from './stack';

export interface IsolatedDatabase {
  orm: Orm;
  url: string;
  drop(): Promise<void>;
}

async function onServer(sql: string): Promise<void> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A migrated database of its own on the test Postgres, for tests of platform-wide sweeps (the reconciler, the
 * lifecycle supervisor): those act on every row they find, so they must neither find nor touch other files' tenants.
 */
export async function isolatedDatabase(prefix: string): Promise<IsolatedDatabase> {
  const name = `${prefix.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
  await onServer(`create database "${name}"`);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  const orm = await createOrm(url.toString());
  await migrate(orm);
  return {
    orm,
    url: url.toString(),
    async drop() {
      await orm.close(true);
      await onServer(`drop database if exists "${name}" with (force)`);
    },
  };
}
