import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { postgresAt, type PostgresServer } from './postgres';

/** The embedded Postgres of `npm start`, in its own data directory, as the topology's one server. */
export async function embeddedPostgresServer(options: { dataDirectory: string; port: number; log?: (line: string) => void }): Promise<PostgresServer> {
  const database = await startEmbeddedPostgres({ dataDirectory: options.dataDirectory, port: options.port, database: 'control_plane', log: options.log });
  return { ...postgresAt(database.url), stop: database.stop };
}
