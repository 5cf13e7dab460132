import type { EntityManager } from '@mikro-orm/postgresql';
import { tenantSchemaName } from '../domain/tenant-status';

const quoted = (identifier: string) => `"${identifier.replace(/"/g, '')}"`;

/**
 * The tables a tenant's runs act on, in a schema of its own so one tenant's data can be exported and dropped whole.
 * Every statement is IF NOT EXISTS: creating the schema twice changes nothing.
 */
function tenantTables(schema: string): string[] {
  const s = quoted(schema);
  return [
    `create schema if not exists ${s}`,
    `create table if not exists ${s}."record" ("key" varchar(200) primary key, "value" jsonb not null, "updated_at" timestamptz not null default now())`,
    `create table if not exists ${s}."credit_ledger" ("id" bigserial primary key, "entry_key" varchar(300) not null unique, "amount" bigint not null, "reason" text not null, "created_at" timestamptz not null default now())`,
  ];
}

/** One round trip: the statements go as one simple query (no parameters; the schema name derives from a uuid). */
export async function createTenantTables(em: EntityManager, tenantId: string): Promise<void> {
  await em.execute(tenantTables(tenantSchemaName(tenantId)).join(';\n'));
}

export async function dropTenantTables(em: EntityManager, tenantId: string): Promise<void> {
  await em.execute(`drop schema if exists ${quoted(tenantSchemaName(tenantId))} cascade`);
}

export async function tenantSchemaExists(em: EntityManager, tenantId: string): Promise<boolean> {
  const rows = await em.execute('select 1 from information_schema.schemata where schema_name = ?', [
    tenantSchemaName(tenantId),
  ]);
  return rows.length > 0;
}
