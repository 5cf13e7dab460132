/**
 * `npm run migration:create -- <Name>`: writes `src/db/migrations/Migration<YYYYMMDDHHMMSS><Name>.ts` with the SQL
 * that takes the committed migrations to the entity schemas (`src/db/entities/`), and lists it in
 * `src/db/migrations/index.ts`. The diff is taken against a throwaway embedded Postgres with every committed migration
 * applied, never against `.data/` or DATABASE_URL: their state may be anything, the committed migrations' is known.
 * Read the generated SQL before committing it (a renamed column comes out as drop and add), and write its `down`.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { migrate, ormOptions } from '../src/db/orm';
import { freePort } from '../tools/fixtures/ports';

const MIGRATIONS_DIR = path.resolve(__dirname, '../src/db/migrations');
const INDEX_FILE = path.join(MIGRATIONS_DIR, 'index.ts');

async function main(): Promise<number> {
  const name = process.argv[2] ?? '';
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
    console.error('usage: npm run migration:create -- <Name>   (PascalCase, e.g. PolicyVersions)');
    return 2;
  }
  // Under the git-ignored .data/ like the tests' databases (Postgres runs unprivileged and must reach it), one per run.
  const dataDirectory = path.resolve(__dirname, '../.data/migration-create', String(process.pid));
  const database = await startEmbeddedPostgres({ dataDirectory, port: await freePort(), database: 'migration_create' });
  try {
    const base = ormOptions(database.url, 2);
    const orm = await MikroORM.init({
      ...base,
      // Snapshots off: the diff is between the entities and the migrated database, and no snapshot file is left behind.
      migrations: { ...base.migrations, path: MIGRATIONS_DIR, pathTs: MIGRATIONS_DIR, emit: 'ts', snapshot: false, fileName: (timestamp: string, suffix?: string) => `Migration${timestamp}${suffix ?? ''}` },
    });
    try {
      await migrate(orm);
      const created = await orm.getMigrator().createMigration(MIGRATIONS_DIR, false, false, name);
      if (!created.fileName) {
        console.log('the committed migrations already match the entities: nothing to write');
        return 0;
      }
      const className = path.basename(created.fileName).replace(/\.ts$/, '');
      await nameClassAfterFile(path.join(MIGRATIONS_DIR, created.fileName), className);
      await registerMigration(className);
      console.log(`wrote src/db/migrations/${className}.ts and listed it in src/db/migrations/index.ts`);
      for (const statement of created.diff.up) console.log(`  ${statement}`);
      return 0;
    } finally {
      await orm.close(true);
    }
  } finally {
    await database.stop();
    await rm(dataDirectory, { recursive: true, force: true });
  }
}

/** MikroORM names the class `Migration<timestamp>_<Name>`; the house style names it exactly like its file. */
async function nameClassAfterFile(file: string, className: string): Promise<void> {
  const code = await readFile(file, 'utf8');
  await writeFile(file, code.replace(/export class \w+ extends Migration/, `export class ${className} extends Migration`));
}

/** Adds the import and the list entry; the list is explicit so the same code runs under tsx, jest and a build. */
async function registerMigration(className: string): Promise<void> {
  const source = await readFile(INDEX_FILE, 'utf8');
  const withImport = source.replace(/((?:^import .*\n)+)/m, `$1import { ${className} } from './${className}';\n`);
  const withEntry = withImport.replace(/(\n\];\s*)$/, `\n  { name: '${className}', class: ${className} },$1`);
  if (withEntry === withImport || withImport === source) throw new Error(`could not list ${className} in ${INDEX_FILE}: add it by hand`);
  await writeFile(INDEX_FILE, withEntry);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
