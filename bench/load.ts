/**
 * `npm run load`: the hosted mix against `npm start`, ramped in steps of more concurrent connections until the API's
 * p99 or its error rate breaks the objective (docs/slo.md, "Load"). Prints each step's rate, latency by route, answers
 * by status, and what saturates: CPU by process (API and worker, Temporal dev server, Postgres, this generator),
 * Postgres connections, and Temporal (schedule-to-start of workflow and activity tasks, runs the worker still owes).
 *
 *   LOAD_STEPS=2,4,8,16,32,64 LOAD_STEP_SECONDS=20 LOAD_TENANTS=40 npm run load   (the defaults)
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { z } from 'zod';
import { percentile } from './load/concurrency';
import { createMix, ROUTES, type Route, type RouteTally } from './load/mix';
import { observedBetween, readHistograms, sampleConnections, unfinishedRuns, type Histogram } from './load/probes';
import { cpuSecondsByGroup, startSystemUnderLoad, type CpuGroup } from './load/system';
import { loginMany, prepareTenants } from './load/tenants';

/** The objective a step must hold to count as sustained: p99 of every answer within 1 s, and 5xx plus failed connections at most 0.1% of requests (the availability budget). */
const P99_OBJECTIVE_MS = 1_000;
const ERROR_RATE_OBJECTIVE = 0.001;

// The load test's own knobs, not the product's (src/config.ts): the system under test gets its environment below.
const knobs = z
  .object({
    LOAD_STEPS: z.string().regex(/^\d+(,\d+)*$/, { message: 'must be connection counts separated by commas' }).default('2,4,8,16,32,64'),
    LOAD_STEP_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
    LOAD_TENANTS: z.coerce.number().int().min(1).max(1000).default(40),
  })
  .parse(process.env);
const steps = knobs.LOAD_STEPS.split(',').map(Number);
const stepSeconds = knobs.LOAD_STEP_SECONDS;
const tenantCount = knobs.LOAD_TENANTS;
const WARM_UP_SECONDS = 10;
const TEMPORAL_HISTOGRAMS = ['temporal_workflow_task_schedule_to_start_latency', 'temporal_activity_schedule_to_start_latency'];

interface StepReport {
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  answers: { ok: number; refused429: number; other4xx: number; server5xx: number; connectionErrors: number; timeouts: number };
  errorRate: number;
  cpuPercent: Record<CpuGroup | 'load generator', number>;
  postgresConnections: { maxTotal: number; maxActive: number };
  workflowTaskScheduleToStart: { meanMs: number; p99UpToMs: number };
  activityScheduleToStart: { meanMs: number; p99UpToMs: number };
  unfinishedRunsAtEnd: number;
  routes: Record<Route, { count: number; p50Ms: number; p99Ms: number; statuses: Record<number, number> }>;
  holds: boolean;
}

async function main(): Promise<void> {
  const operatorToken = randomBytes(24).toString('hex');
  const prefix = `load${Date.now().toString(36)}`;
  // The per-IP signup limit would refuse all but 5 signups an hour from this one address, and the deployment-wide
  // ceiling (6000/min) would answer 429 before the process saturates: both raised so the mix measures capacity. Each
  // request still counts in Postgres as in production. Per-tenant run ceilings keep their defaults; their 429s are
  // counted apart from errors. The tenants never open their verification mail, so an unverified tenant's allowance
  // (API keys, runs a day) is raised to what a verified one has; before email verification existed these did nothing.
  // Not NODE_ENV=production: that refuses the one-machine parts (dev server, embedded Postgres, Mailpit) this measures,
  // and our code reads it nowhere else than in those startup checks (src/production-posture.ts).
  const system = await startSystemUnderLoad({
    UNVERIFIED_API_KEYS: '5',
    UNVERIFIED_RUNS_PER_DAY: '100000',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    HOSTED_MODE: 'true',
    SIGNUP_RATE_LIMIT_PER_HOUR: '100000',
    GLOBAL_RATE_LIMIT_PER_MINUTE: '10000000',
    AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
    OPERATOR_TOKENS: `load:founder:${operatorToken}`,
  });
  const database = new Client({ connectionString: system.databaseUrl });
  try {
    await database.connect();
    console.log(`npm start is up (pid ${system.pid}, ${system.baseUrl}); ${cpus().length} cores, shared with this load generator`);
    const api = { baseUrl: system.baseUrl, operatorToken };
    const preparing = performance.now();
    const tenants = await prepareTenants(api, tenantCount, prefix);
    const refreshTokens = await loginMany(api, tenants, 2 * tenantCount);
    console.log(`${tenants.length} tenants signed up, active, on enterprise, with a key, a session and 2 runs each, in ${((performance.now() - preparing) / 1000).toFixed(1)} s`);
    const mix = createMix({ tenants, refreshTokens, operatorToken, prefix });

    // JIT, connection pools and Postgres's caches warm up on a step nobody reads.
    await autocannon({ url: system.baseUrl, connections: 2, duration: WARM_UP_SECONDS, timeout: 10, requests: [mix.request] });
    const reports: StepReport[] = [];
    for (const connections of steps) {
      const report = await runStep(connections, mix, system, database);
      reports.push(report);
      printStep(report);
      if (!report.holds) break;
    }
    printSummary(reports);
  } finally {
    await database.end().catch(() => undefined);
    await system.stop();
  }
}

async function runStep(connections: number, mix: ReturnType<typeof createMix>, system: Awaited<ReturnType<typeof startSystemUnderLoad>>, database: Client): Promise<StepReport> {
  mix.takeTallies();
  const metricsBefore = await scrapeHistograms(system.baseUrl);
  const cpuBefore = await cpuSecondsByGroup(system.pid);
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  const connectionSamples: Array<{ total: number; active: number }> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      connectionSamples.push(await sampleConnections(database));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  })();

  const result = await autocannon({ url: system.baseUrl, connections, duration: stepSeconds, timeout: 10, requests: [mix.request] });

  sampling = false;
  await sampler;
  const elapsedSeconds = (performance.now() - started) / 1000;
  const cpuAfter = await cpuSecondsByGroup(system.pid);
  const generator = process.cpuUsage(generatorBefore);
  const metricsAfter = await scrapeHistograms(system.baseUrl);
  const tallies = mix.takeTallies();

  const all = ROUTES.flatMap((route) => tallies[route].latenciesMs);
  const statusCount = (test: (status: number) => boolean) => ROUTES.reduce((sum, route) => sum + Object.entries(tallies[route].statuses).reduce((s, [status, count]) => s + (test(Number(status)) ? count : 0), 0), 0);
  const answers = {
    ok: statusCount((status) => status < 400),
    refused429: statusCount((status) => status === 429),
    other4xx: statusCount((status) => status >= 400 && status < 500 && status !== 429),
    server5xx: statusCount((status) => status >= 500),
    connectionErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
  };
  const attempted = all.length + answers.connectionErrors + answers.timeouts;
  const errorRate = attempted === 0 ? 0 : (answers.server5xx + answers.connectionErrors + answers.timeouts) / attempted;
  const p99Ms = percentile(all, 0.99);
  const cpuPercent = Object.fromEntries(Object.entries(cpuAfter).map(([group, seconds]) => [group, round(((seconds - cpuBefore[group as CpuGroup]) / elapsedSeconds) * 100)])) as StepReport['cpuPercent'];
  cpuPercent['load generator'] = round(((generator.user + generator.system) / 1e6 / elapsedSeconds) * 100);
  return {
    connections,
    requestsPerSecond: round(all.length / elapsedSeconds),
    p50Ms: round(percentile(all, 0.5)),
    p99Ms: round(p99Ms),
    answers,
    errorRate,
    cpuPercent,
    postgresConnections: { maxTotal: Math.max(...connectionSamples.map((sample) => sample.total)), maxActive: Math.max(...connectionSamples.map((sample) => sample.active)) },
    workflowTaskScheduleToStart: roundAll(observedBetween(metricsBefore[TEMPORAL_HISTOGRAMS[0]!], metricsAfter[TEMPORAL_HISTOGRAMS[0]!])),
    activityScheduleToStart: roundAll(observedBetween(metricsBefore[TEMPORAL_HISTOGRAMS[1]!], metricsAfter[TEMPORAL_HISTOGRAMS[1]!])),
    unfinishedRunsAtEnd: await unfinishedRuns(database),
    routes: Object.fromEntries(ROUTES.map((route) => [route, summariseRoute(tallies[route])])) as StepReport['routes'],
    holds: p99Ms <= P99_OBJECTIVE_MS && errorRate <= ERROR_RATE_OBJECTIVE,
  };
}

async function scrapeHistograms(baseUrl: string): Promise<Record<string, Histogram>> {
  const response = await fetch(`${baseUrl}/metrics`);
  return readHistograms(await response.text(), TEMPORAL_HISTOGRAMS);
}

function summariseRoute(tally: RouteTally) {
  return { count: tally.latenciesMs.length, p50Ms: round(percentile(tally.latenciesMs, 0.5)), p99Ms: round(percentile(tally.latenciesMs, 0.99)), statuses: tally.statuses };
}

const round = (value: number) => (Number.isFinite(value) ? Math.round(value * 10) / 10 : value);
const roundAll = ({ meanMs, p99UpToMs }: { meanMs: number; p99UpToMs: number }) => ({ meanMs: round(meanMs), p99UpToMs: round(p99UpToMs) });

function printStep(report: StepReport): void {
  const { answers } = report;
  console.log(
    `\n${report.connections} connections: ${report.requestsPerSecond} req/s, p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, ` +
      `ok ${answers.ok}, 429 ${answers.refused429}, other 4xx ${answers.other4xx}, 5xx ${answers.server5xx}, ` +
      `connection errors ${answers.connectionErrors}, timeouts ${answers.timeouts}: ${report.holds ? 'holds the objective' : 'BREAKS the objective'}`,
  );
  console.log(
    `  CPU % (100 = one core): ${Object.entries(report.cpuPercent).map(([group, percent]) => `${group} ${percent}`).join(', ')}; ` +
      `Postgres connections max ${report.postgresConnections.maxTotal} (active ${report.postgresConnections.maxActive}); ` +
      `schedule-to-start workflow task mean ${report.workflowTaskScheduleToStart.meanMs} ms (p99 ≤ ${report.workflowTaskScheduleToStart.p99UpToMs}), ` +
      `activity mean ${report.activityScheduleToStart.meanMs} ms (p99 ≤ ${report.activityScheduleToStart.p99UpToMs}); unfinished runs ${report.unfinishedRunsAtEnd}`,
  );
  console.table(Object.fromEntries(Object.entries(report.routes).map(([route, summary]) => [route, { ...summary, statuses: JSON.stringify(summary.statuses) }])));
}

function printSummary(reports: StepReport[]): void {
  const sustained = reports.filter((report) => report.holds).at(-1);
  const broken = reports.find((report) => !report.holds);
  console.log('\nsummary');
  console.table(
    reports.map((report) => ({
      connections: report.connections,
      'req/s': report.requestsPerSecond,
      'p50 ms': report.p50Ms,
      'p99 ms': report.p99Ms,
      '5xx': report.answers.server5xx,
      '429': report.answers.refused429,
      'conn err+timeout': report.answers.connectionErrors + report.answers.timeouts,
      'cpu api+worker': report.cpuPercent['api+worker (node)'],
      'cpu temporal': report.cpuPercent['temporal dev server'],
      'cpu postgres': report.cpuPercent.postgres,
      'cpu api+worker main thread': report.cpuPercent['api+worker main thread'],
      'cpu generator': report.cpuPercent['load generator'],
      'cpu machine': report.cpuPercent['whole machine'],
      'cpu ms/req api+worker': round((report.cpuPercent['api+worker (node)'] * 10) / report.requestsPerSecond),
      'cpu ms/req temporal': round((report.cpuPercent['temporal dev server'] * 10) / report.requestsPerSecond),
      'cpu ms/req postgres': round((report.cpuPercent.postgres * 10) / report.requestsPerSecond),
      'pg conns': report.postgresConnections.maxTotal,
      'wft s2s ms': report.workflowTaskScheduleToStart.meanMs,
      'act s2s ms': report.activityScheduleToStart.meanMs,
      'runs owed': report.unfinishedRunsAtEnd,
      holds: report.holds,
    })),
  );
  console.log(sustained ? `sustained: ${sustained.requestsPerSecond} req/s at ${sustained.connections} connections within p99 ${P99_OBJECTIVE_MS} ms and ${ERROR_RATE_OBJECTIVE * 100}% errors` : 'no step held the objective');
  console.log(broken ? `broken at ${broken.connections} connections (p99 ${broken.p99Ms} ms, error rate ${(broken.errorRate * 100).toFixed(2)}%)` : 'the objective held at every step: raise LOAD_STEPS');
  console.log(`\nJSON ${JSON.stringify(reports)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
