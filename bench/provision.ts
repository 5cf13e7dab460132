/**
 * `npm run bench:provision`: N signups at concurrency C through the API, signup-to-active latency and throughput,
 * beside a baseline of N bare workflows each running as many no-op activities as the saga has steps, on the same
 * server in the same run, and beside a second baseline: the same bare workflow started after the same password hash the
 * API computes for a signup, in the request path (src/auth/password-hash.ts), since the saga's baseline pays none. On each server of BENCH_SERVERS (dev and fleet by default), one after the other. Prints the
 * ratios. BENCH_N, BENCH_CONCURRENCY and BENCH_ROUNDS tune it.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../src/auth/password-hash';
import { PROVISIONING_STEPS } from '../src/contracts/provisioning';
import { startBaselineWorker } from './baseline/worker';
import { compareRounds, runConcurrently, summarise } from './stack';
import { onEachBenchTarget, type BenchTarget } from './targets';

async function benchmark(target: BenchTarget) {
  const { client, apiUrls } = target;
  const { BENCH_N: n, BENCH_CONCURRENCY: concurrency, BENCH_ROUNDS: rounds } = target.config;
  const baselineWorker = await startBaselineWorker(target);
  const run = randomBytes(3).toString('hex');
  const answers = { total: 0, serverErrors: 0 };
  try {
    const signup = (label: string) => async (index: number) => {
      const slug = `bench-${run}-${label}-${index}`;
      const response = await fetch(`${apiUrls[index % apiUrls.length]}/api/v1/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `owner-${slug}@example.com`, password: 'Bench-password-1234', orgName: slug }),
      });
      answers.total += 1;
      if (response.status >= 500) answers.serverErrors += 1;
      if (response.status !== 202) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
      const { workflowId } = (await response.json()) as { workflowId: string };
      await client.workflow.getHandle(workflowId).result();
    };
    const baseline = (label: string) => (index: number) =>
      client.workflow
        .execute('baselineWorkflow', { taskQueue: baselineWorker.taskQueue, workflowId: `baseline:${run}-${label}-${index}`, args: [{ activityCount: PROVISIONING_STEPS.length }] })
        .then(() => undefined);
    const hashedBaseline = (label: string) => async (index: number) => {
      await hashPassword('Bench-password-1234');
      await baseline(`hashed-${label}`)(index);
    };

    // Warm-up: bundle caches, connection pools, JIT.
    await runConcurrently(concurrency, concurrency, signup('warm'));
    await runConcurrently(concurrency, concurrency, baseline('warm'));
    await runConcurrently(concurrency, concurrency, hashedBaseline('warm'));
    // Alternate the series so drift in the machine's load hits all alike.
    const measured = [];
    for (let round = 0; round < rounds; round += 1) {
      measured.push({
        subject: summarise('provisioning (signup to active)', await runConcurrently(n, concurrency, signup(`r${round}`))),
        baseline: summarise(`bare workflow, ${PROVISIONING_STEPS.length} no-op activities`, await runConcurrently(n, concurrency, baseline(`r${round}`))),
        also: summarise('bare workflow + password hash', await runConcurrently(n, concurrency, hashedBaseline(`r${round}`))),
      });
    }
    compareRounds(`${target.name}: provisioning vs baseline (${n} each, concurrency ${concurrency})`, measured);
    console.log('targets: throughput ratio >= 0.70, p50 ratio <= 1.50, held against the bare workflow + password hash (both printed)');
    console.log(`API availability under this load: ${answers.total - answers.serverErrors}/${answers.total} signups answered without a 5xx`);
  } finally {
    await baselineWorker.stop();
  }
}

onEachBenchTarget(benchmark).catch((error) => {
  console.error(error);
  process.exit(1);
});
