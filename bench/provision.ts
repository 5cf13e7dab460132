/**
 * `npm run bench:provision`: N signups at concurrency C through the API, signup-to-active latency and throughput,
 * beside a baseline of N bare workflows each running as many no-op activities as the saga has steps, on the same
 * server in the same run. On each server of BENCH_SERVERS (dev and fleet by default), one after the other. Prints the
 * ratios. BENCH_N, BENCH_CONCURRENCY and BENCH_ROUNDS tune it.
 */
import { randomBytes } from 'node:crypto';
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

    // Warm-up: bundle caches, connection pools, JIT.
    await runConcurrently(concurrency, concurrency, signup('warm'));
    await runConcurrently(concurrency, concurrency, baseline('warm'));
    // Alternate the two so drift in the machine's load hits both alike.
    const measured = [];
    for (let round = 0; round < rounds; round += 1) {
      measured.push({
        subject: summarise('provisioning (signup to active)', await runConcurrently(n, concurrency, signup(`r${round}`))),
        baseline: summarise(`bare workflow, ${PROVISIONING_STEPS.length} no-op activities`, await runConcurrently(n, concurrency, baseline(`r${round}`))),
      });
    }
    compareRounds(`${target.name}: provisioning vs baseline (${n} each, concurrency ${concurrency})`, measured);
    console.log('targets: throughput ratio >= 0.70, p50 ratio <= 1.50');
    console.log(`API availability under this load: ${answers.total - answers.serverErrors}/${answers.total} signups answered without a 5xx`);
  } finally {
    await baselineWorker.stop();
  }
}

onEachBenchTarget(benchmark).catch((error) => {
  console.error(error);
  process.exit(1);
});
