import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITY_SCHEMAS } from './entities';
import { MIGRATIONS } from './migrations';

export type Orm = MikroORM;

export function ormOptions(databaseUrl: string, poolMax = 10): Options {
  return {
    clientUrl: databaseUrl,
    entities: ENTITY_SCHEMAS,
    extensions: [Migrator],
    // Listed, not globbed: the same list works under tsx, jest and a compiled build.
    migrations: { migrationsList: MIGRATIONS, tableName: 'mikro_orm_migrations', transactional: true, allOrNothing: true, silent: true },
    pool: { min: 0, max: poolMax },
    // A forgotten fork() must fail, not silently share an identity map between requests.
    allowGlobalContext: false,
    debug: false,
  };
}

export async function createOrm(databaseUrl: string, poolMax?: number): Promise<Orm> {
  return MikroORM.init(ormOptions(databaseUrl, poolMax));
}

/** Applies every committed migration not yet applied; safe to call at every start. */
export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((migration) => migration.name);
}
