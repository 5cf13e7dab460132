import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stopChild } from '../../src/temporal/dev-server';

export const UI_SERVER = path.resolve(__dirname, '../../.tools/temporal-ui-server/server');

/** Temporal's Web UI server (github.com/temporalio/ui-server, assets embedded) in front of one frontend. */
export async function startUiServer(options: {
  temporalAddress: string;
  port: number;
  directory: string;
  log?: (line: string) => void;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const configDirectory = path.join(options.directory, 'config');
  await mkdir(configDirectory, { recursive: true });
  await writeFile(
    path.join(configDirectory, 'production.yaml'),
    [
      `temporalGrpcAddress: ${options.temporalAddress}`,
      'host: 127.0.0.1',
      `port: ${options.port}`,
      'enableUi: true',
      'defaultNamespace: default',
      'notifyOnNewVersion: false',
      'cors:',
      '  cookieInsecure: true',
      '',
    ].join('\n'),
  );
  const child = spawn(UI_SERVER, ['--root', options.directory, '--config', 'config', '--env', 'production', 'start'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logFile = createWriteStream(path.join(options.directory, 'ui-server.log'), { flags: 'a' });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.pipe(logFile);
    stream?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
  }
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Temporal UI server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal UI server did not answer at ${url}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, stop: () => stopChild(child) };
}
