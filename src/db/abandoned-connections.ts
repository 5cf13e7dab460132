/**
 * pg's query_timeout gives up on a statement the server has not answered but keeps the connection, still waiting for
 * that answer; a ROLLBACK queued behind it times out unsent. Back in the pool, such a connection would hand the next
 * caller a session inside a transaction nobody owns. So a connection whose statement timed out is closed: queued
 * statements fail at once, knex's pool discards it (marked disposed, as knex marks a connection that ended), and the server
 * rolls the session back when it sees the socket gone.
 */
interface PgConnection {
  query: (...args: unknown[]) => unknown;
  __knex__disposed?: unknown;
  connection?: { stream?: { destroy(error?: Error): void } };
}

type QueryCallback = (error: Error | null, result?: unknown) => void;

const isQueryTimeout = (error: unknown) => error instanceof Error && error.message === 'Query read timeout';

/** knex's `pool.afterCreate`: wraps each new connection's query so a timed-out statement closes it. */
export function closeOnQueryTimeout(connection: PgConnection, done: (error: Error | null, connection: PgConnection) => void): void {
  const query = connection.query.bind(connection);
  const abandon = () => {
    // knex's own mark for a connection that ended, set now: the socket's close arrives ticks later, and the pool may
    // hand the connection out again before it does.
    connection.__knex__disposed ??= 'abandoned after a statement timed out';
    connection.connection?.stream?.destroy();
  };
  connection.query = (...args: unknown[]) => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      // knex's form: query(config, callback).
      args[args.length - 1] = ((error, result) => {
        if (isQueryTimeout(error)) abandon();
        (callback as QueryCallback)(error, result);
      }) satisfies QueryCallback;
      return query(...args);
    }
    const answer = query(...args);
    if (answer instanceof Promise) {
      return answer.catch((error: unknown) => {
        if (isQueryTimeout(error)) abandon();
        throw error;
      });
    }
    return answer;
  };
  done(null, connection);
}
