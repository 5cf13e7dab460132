import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { stopChild } from '../temporal/dev-server';

export const MAILPIT = path.resolve(__dirname, '../../.tools/mailpit/mailpit');

export interface MailCatcher {
  smtpUrl: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * Mailpit, the local mail catcher `npm start` and the tests run when no SMTP server is configured: it takes every
 * mail on its SMTP port and shows it in its web UI and HTTP API. Its database file (under .data/) names the process,
 * so a check for orphans finds it.
 */
export async function startMailpit(options: { smtpPort: number; uiPort: number; databaseFile: string; log?: (line: string) => void }): Promise<MailCatcher> {
  await mkdir(path.dirname(options.databaseFile), { recursive: true });
  const args = [
    '--smtp', `127.0.0.1:${options.smtpPort}`,
    '--listen', `127.0.0.1:${options.uiPort}`,
    '--database', options.databaseFile,
    '--smtp-auth-accept-any', '--smtp-auth-allow-insecure', '--smtp-disable-rdns', '--disable-version-check', '--quiet',
    '--max', '5000',
  ];
  const child = spawn(MAILPIT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
  child.stderr?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
  const uiUrl = `http://127.0.0.1:${options.uiPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mailpit exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${uiUrl}/readyz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mailpit not reachable at ${uiUrl}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { smtpUrl: `smtp://127.0.0.1:${options.smtpPort}`, uiUrl, stop: () => stopChild(child) };
}
