/**
 * `npm run bench:runs`: runs of 5 steps through the run service at concurrency C, beside a baseline of bare workflows
 * of 5 no-op activities (bench/baseline/, on a worker of its own), on the same dev server in the same run. Prints throughput, p50 and p99 and the
 * kernel's cost as ratios to the baseline. On each server of BENCH_SERVERS (dev and fleet by default), one after the
 * other; on the fleet the runs execute on its worker processes. BENCH_N, BENCH_CONCURRENCY and BENCH_ROUNDS set the load.
 */
import type { RunAdmission } from '../src/services/run-admission';
import { createRunService } from '../src/services/run-service';
import type { RunStep } from '../src/domain/step-kinds';
import { runWorkflowId } from '../src/temporal/workflow-ids';
import type { runWorkflow } from '../workflows/run';
import { createActiveTenant } from '../tools/fixtures/runs';
import { startBaselineWorker } from './baseline/worker';
import { compareRounds, runConcurrently, summarise } from './stack';
import { onEachBenchTarget, type BenchTarget } from './targets';

const STEPS = 5;

/** The kernel is measured with admission's reservation transaction but without the plan's run ceilings. */
const admitEveryRun: RunAdmission = async () => async () => undefined;

function fiveSteps(index: number): RunStep[] {
  const key = `bench-${index}`;
  return [
    { kind: 'records.write', key, value: { index } },
    { kind: 'credits.debit', amount: 3, reason: 'bench' },
    { kind: 'records.write', key: `${key}-b`, value: [index] },
    { kind: 'credits.refund', amount: 1 },
    { kind: 'records.delete', key },
  ];
}

async function benchmark(target: BenchTarget) {
  const { client, orm } = target;
  const { BENCH_N: n, BENCH_CONCURRENCY: concurrency, BENCH_ROUNDS: rounds, TEMPORAL_TASK_QUEUE: taskQueue } = target.config;
  const runs = createRunService({ client, orm, taskQueue });
  const baselineWorker = await startBaselineWorker(target);
  try {
    const tenants = await Promise.all(Array.from({ length: concurrency }, (_unused, index) => createActiveTenant(orm, { slug: `bench-${index}` })));
    const baseline = (label: string) => (index: number) =>
      client.workflow.execute('baselineWorkflow', { taskQueue: baselineWorker.taskQueue, workflowId: `bench-baseline-${label}-${index}`, args: [{ activityCount: STEPS }] }).then(() => undefined);
    const kernel = (label: string) => async (index: number) => {
      const tenant = tenants[index % tenants.length]!;
      const submission = { tenantId: tenant.tenantId, tenantStatus: 'active' as const, submittedBy: 'user:bench', plan: { steps: fiveSteps(index) }, idempotencyKey: `${label}-${index}` };
      const submitted = await runs.submit(submission, admitEveryRun);
      if (submitted.kind === 'conflict' || submitted.kind === 'refused') throw new Error(`benchmark run not admitted: ${submitted.kind}`);
      const result = await client.workflow.getHandle<typeof runWorkflow>(runWorkflowId(submitted.runId)).result();
      if (result.outcome !== 'completed') throw new Error(`run ${submitted.runId} did not complete`);
    };

    // Warm both paths (bundle, connections, pools) so neither series pays for start-up.
    await runConcurrently(concurrency, concurrency, baseline('warm'));
    await runConcurrently(concurrency, concurrency, kernel('warm'));
    const measured = [];
    for (let round = 0; round < rounds; round += 1) {
      measured.push({
        subject: summarise(`run kernel, ${STEPS}-step plan`, await runConcurrently(n, concurrency, kernel(`r${round}`))),
        baseline: summarise(`bare workflow, ${STEPS} no-op activities`, await runConcurrently(n, concurrency, baseline(`r${round}`))),
      });
    }
    compareRounds(`${target.name}: runs vs baseline (${n} each, concurrency ${concurrency})`, measured);
  } finally {
    await baselineWorker.stop();
  }
}

onEachBenchTarget(benchmark).catch((error) => {
  console.error(error);
  process.exit(1);
});
