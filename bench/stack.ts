import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { startControlPlane, type RunningControlPlane } from '../src/control-plane';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { createLogger } from '../src/observability/logger';
import { installTemporalRuntime } from '../src/observability/temporal-runtime';
import { startMailpit } from '../src/mail/mailpit';
import { startDevServer } from '../src/temporal/dev-server';
import { freePort } from '../tools/fixtures/ports';

export interface BenchStack {
  controlPlane: RunningControlPlane;
  config: Config;
  stop(): Promise<void>;
}

/**
 * The same shape `npm start` runs (dev server with a SQLite file in WAL mode, embedded Postgres, Mailpit as the mail
 * server, API and worker in one process), on free ports and a throwaway data directory, so a benchmark never touches
 * the developer's data. With Mailpit a signup's verification mail is sent as it is under `npm start`, not refused.
 */
export async function startBenchStack(environment: Record<string, string> = {}): Promise<BenchStack> {
  installQuietRuntime();
  const dataDirectory = await mkdtemp(path.join(tmpdir(), 'bench-'));
  await chmod(dataDirectory, 0o755); // Postgres runs as its own user and must reach its data directory
  const database = await startEmbeddedPostgres({ dataDirectory: path.join(dataDirectory, 'pg'), port: await freePort(), database: 'bench' });
  const temporal = await startDevServer({ port: await freePort(), databaseFile: path.join(dataDirectory, 'temporal.db') });
  const mailpit = await startMailpit({ smtpPort: await freePort(), uiPort: await freePort(), databaseFile: path.join(dataDirectory, 'mailpit', 'mailpit.db') });
  // An entry point like `npm start`: the environment (BENCH_* among it) under the stack's own addresses.
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: database.url,
    API_PORT: String(await freePort()),
    HOSTED_MODE: 'true',
    SIGNUP_RATE_LIMIT_PER_HOUR: '100000',
    // Benchmarks speak from one address with a few credentials: budgets raised, every request still counted.
    ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: '10000000',
    OPERATOR_RATE_LIMIT_PER_MINUTE: '10000000',
    TENANT_REQUEST_BUDGET_PERCENT: '100000',
    DATABASE_POOL_MAX: '20',
    SMTP_URL: mailpit.smtpUrl,
    ...environment,
  });
  const controlPlane = await startControlPlane(config, database.url, createLogger('warn'));
  return {
    controlPlane,
    config,
    async stop() {
      await controlPlane.stop();
      await mailpit.stop();
      await temporal.stop();
      await database.stop();
      await rm(dataDirectory, { recursive: true, force: true });
    },
  };
}

let runtimeInstalled = false;
/** The SDK's runtime once per process (a second install throws), logging warnings only: bundler output would bury the figures. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  installTemporalRuntime(createLogger('warn'), undefined);
  runtimeInstalled = true;
}

/** Runs `count` jobs with at most `concurrency` in flight; returns each job's latency in ms and the wall time. */
export async function runConcurrently(count: number, concurrency: number, job: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        const begin = performance.now();
        await job(index);
        latencies.push(performance.now() - begin);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? NaN;
}

export function summarise(name: string, result: { latencies: number[]; wallMs: number }) {
  const throughput = (result.latencies.length / result.wallMs) * 1000;
  const summary = {
    name,
    count: result.latencies.length,
    throughputPerSecond: Number(throughput.toFixed(2)),
    p50Ms: Number(percentile(result.latencies, 0.5).toFixed(1)),
    p95Ms: Number(percentile(result.latencies, 0.95).toFixed(1)),
    p99Ms: Number(percentile(result.latencies, 0.99).toFixed(1)),
  };
  return summary;
}

type Summary = ReturnType<typeof summarise>;

/**
 * Prints every round and the median ratios of subject to baseline, each ratio taken within one round; with a second
 * baseline in the rounds (`also`), its ratios too.
 */
export function compareRounds(title: string, rounds: Array<{ subject: Summary; baseline: Summary; also?: Summary }>): void {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(`\n${title}, ${rounds.length} round(s), ${cpus().length} cores`);
  console.table(rounds.flatMap((round, index) => [round.subject, round.baseline, ...(round.also ? [round.also] : [])].map((summary) => ({ round: index, ...summary }))));
  const ratios = (against: (round: (typeof rounds)[number]) => Summary) => {
    const ratio = (pick: (summary: Summary) => number) => median(rounds.map((round) => pick(round.subject) / pick(against(round)))).toFixed(2);
    return `throughput ${ratio((s) => s.throughputPerSecond)}, p50 ${ratio((s) => s.p50Ms)}, p99 ${ratio((s) => s.p99Ms)}`;
  };
  console.log(`median ratios subject/baseline: ${ratios((round) => round.baseline)}`);
  if (rounds.every((round) => round.also)) console.log(`median ratios subject/${rounds[0]!.also!.name}: ${ratios((round) => round.also!)}`);
}
