import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { closeOnQueryTimeout } from './abandoned-connections';
import { ENTITY_SCHEMAS } from './entities';
import { MIGRATIONS } from './migrations';

export type Orm = MikroORM;

/**
 * Client-side bounds on every wait for Postgres. A frozen server (SIGSTOP, a partition, a stalled disk) never answers
 * and never enforces its own statement_timeout, and pg and knex wait without limit by default (knex: 60 s for a
 * pooled connection). With these, each wait fails on its own with an error database-errors.ts classifies.
 */
export interface DatabaseTimeouts {
  /** Waiting for a pooled connection, opening a new one, and one statement's answer, each. */
  queryTimeoutMs: number;
}

function boundedDriver(timeouts: DatabaseTimeouts): Pick<Options, 'driverOptions'> {
  const ms = timeouts.queryTimeoutMs;
  return {
    driverOptions: {
      connection: {
        query_timeout: ms,
        connectionTimeoutMillis: ms,
        // A slow but live server cancels the statement itself just before the client gives up on it, so the connection
        // comes back clean (57014) instead of holding an abandoned statement.
        statement_timeout: Math.round(ms * 0.9),
      },
    },
  };
}

export function ormOptions(databaseUrl: string, poolMax = 10, timeouts?: DatabaseTimeouts): Options {
  return {
    clientUrl: databaseUrl,
    entities: ENTITY_SCHEMAS,
    extensions: [Migrator],
    // Listed, not globbed: the same list works under tsx, jest and a compiled build.
    migrations: { migrationsList: MIGRATIONS, tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, silent: true },
    pool: { min: 0, max: poolMax, ...(timeouts ? { acquireTimeoutMillis: timeouts.queryTimeoutMs, afterCreate: closeOnQueryTimeout } : {}) },
    ...(timeouts ? boundedDriver(timeouts) : {}),
    // A forgotten fork() must fail, not silently share an identity map between requests.
    allowGlobalContext: false,
    debug: false,
  };
}

export async function createOrm(databaseUrl: string, poolMax?: number, timeouts?: DatabaseTimeouts): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax, timeouts));
}

/** Applies every committed migration not yet applied; safe to call at every start. Give it an ORM without DatabaseTimeouts: DDL may take long. */
export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
