import { Client } from 'pg';

/** One Postgres server that hosts the control plane's database and Temporal's two. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  url(database: string): string;
  createDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

/** A server named by a postgres:// URL (its user must be allowed to create databases). */
export function postgresAt(serverUrl: string): PostgresServer {
  const url = new URL(serverUrl);
  const server: PostgresServer = {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    url: (database) => {
      const named = new URL(serverUrl);
      named.pathname = `/${database}`;
      return named.toString();
    },
    async createDatabase(database) {
      const client = new Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
      await client.connect();
      try {
        const existing = await client.query('select 1 from pg_database where datname = $1', [database]);
        if (existing.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
    },
    stop: async () => {},
  };
  return server;
}
