import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { postgresAt, type PostgresServer } from '../../tools/topology/postgres';
import { freePort } from './ports';
import { isAlive, signalTree } from './process-tree';
import { waitFor } from './wait';

/** A Postgres server of the test's own, which it may kill, restart, freeze and thaw: never the suite's shared one. */
export interface KillablePostgres extends PostgresServer {
  /** SIGKILL to the postmaster and every backend at once, as a host losing the server; waits until all are gone. */
  kill(): Promise<void>;
  /** Starts it again from its data directory (crash recovery from the WAL) and waits until it accepts connections. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT to the postmaster and every backend: open connections stop answering, new ones hang. */
  freeze(): void;
  thaw(): void;
}

type Reply = { url?: string; done?: string; error?: string };

function request(keeper: ChildProcess, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReply = (reply: Reply) => {
      if (reply.done !== message) return;
      keeper.off('message', onReply);
      if (reply.error) reject(new Error(`postgres ${message}: ${reply.error}`));
      else resolve();
    };
    keeper.on('message', onReply);
    keeper.send(message);
  });
}

/** The embedded Postgres of `npm start`, in a keeper process (killable-postgres-server.ts) that can start it again. */
export async function startKillablePostgres(dataDirectory: string): Promise<KillablePostgres> {
  const keeper = fork(path.join(__dirname, 'killable-postgres-server.ts'), [dataDirectory, String(await freePort())], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    keeper.once('message', (reply: Reply) => (reply.url ? resolve(reply.url) : reject(new Error(`postgres did not start: ${reply.error}`))));
    keeper.once('exit', (code) => reject(new Error(`postgres keeper exited with ${code}`)));
  });
  // The postmaster writes its pid on the first line of this file at every start.
  const postmasterPid = () => Number(readFileSync(path.join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let frozen: number[] = [];
  const thaw = () => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // exited meanwhile
      }
    }
  };
  return {
    ...postgresAt(url),
    async kill() {
      const tree = signalTree(postmasterPid(), 'SIGKILL');
      await waitFor(() => tree.every((pid) => !isAlive(pid)), { timeoutMs: 10_000 });
    },
    restart: () => request(keeper, 'restart'),
    freeze() {
      frozen = signalTree(postmasterPid(), 'SIGSTOP');
    },
    thaw,
    async stop() {
      thaw();
      if (keeper.exitCode !== null) return;
      await request(keeper, 'stop').catch(() => undefined);
      keeper.kill('SIGTERM');
    },
  };
}
