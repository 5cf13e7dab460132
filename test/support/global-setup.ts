/**
 * Starts the real servers the whole suite shares: a fresh embedded Postgres (or DATABASE_URL) migrated once, one
 * headless Temporal dev server and one Mailpit that catches every mail. Time-skipping tests start their own Java test
 * server per file.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { createOrm, migrate } from '../../src/db/orm';
import { startDevServer } from '../../src/temporal/dev-server';
import { startMailpit } from '../../src/mail/mailpit';
import { freePort, testDataDirectory } from './ports';

export default async function globalSetup(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  (globalThis as { __controlPlaneTestStops?: typeof stops }).__controlPlaneTestStops = stops;

  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    databaseUrl = process.env.DATABASE_URL;
  } else {
    const dataDirectory = path.join(testDataDirectory(process.pid), 'postgres');
    const database = await startEmbeddedPostgres({ dataDirectory, port: await freePort(), database: 'control_plane_test' });
    stops.push(async () => {
      await database.stop();
      await rm(testDataDirectory(process.pid), { recursive: true, force: true });
    });
    databaseUrl = database.url;
  }
  const orm = await createOrm(databaseUrl);
  await migrate(orm);
  await orm.close(true);

  const temporal = await startDevServer({ port: await freePort(), uiPort: await freePort() });
  stops.push(temporal.stop);

  // One mail catcher for the suite: tests find their mail by its recipient, which each test makes unique.
  const mailpit = await startMailpit({ smtpPort: await freePort(), uiPort: await freePort(), databaseFile: path.join(testDataDirectory(process.pid), 'mailpit', 'mailpit.db') });
  stops.push(mailpit.stop);

  process.env.TEST_SMTP_URL = mailpit.smtpUrl;
  process.env.TEST_MAILPIT_URL = mailpit.uiUrl;
  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_TEMPORAL_UI_URL = temporal.uiUrl;
}
