/**
 * The fast layer: the workflows' branchy paths on the time-skipping server with in-memory activities, in seconds.
 * What each activity does to Postgres is proven by the real-server tests; here only the workflow's decisions are.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type InjectedSinks } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { LifecycleActivities } from '../../activities/lifecycle';
import type { RunActivities } from '../../activities/run';
import type { RunStepActivities } from '../../activities/run-steps';
import { lifecycleStateQuery, suspendUpdate, unsuspendUpdate } from '../../src/contracts/lifecycle';
import { runStatusQuery, terminateRunUpdate, type RunInput } from '../../src/contracts/run';
import type { ControlPlaneSinks } from '../../src/contracts/sinks';
import type { RunStep } from '../../src/domain/step-kinds';
import { runWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import { operator, startLifecycle } from '../../tools/fixtures/lifecycle';
import { uniqueTaskQueue, workflowBundle } from '../support/stack';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { waitFor } from '../support/wait';

type Activities = RunActivities & RunStepActivities & LifecycleActivities;

/** Every activity the run and lifecycle workflows call, recording its calls; a test overrides the ones it needs. */
function inMemoryActivities(overrides: Partial<Activities> = {}) {
  const calls: string[] = [];
  const answer =
    <T>(name: string, value: T) =>
    async () => {
      calls.push(name);
      return value;
    };
  const activities: Partial<Activities> = {
    openRun: answer('openRun', undefined),
    authorizeRun: answer('authorizeRun', { allowed: true, gate: 'lifecycle' as const, reason: 'allowed', policyFingerprint: 'policy' }),
    recordRunPhase: answer('recordRunPhase', undefined),
    markRunDegraded: answer('markRunDegraded', undefined),
    checkRunGuard: answer('checkRunGuard', undefined),
    completeWaitStep: answer('completeWaitStep', undefined),
    recordApproval: answer('recordApproval', undefined),
    evaluateRunGovernance: answer('evaluateRunGovernance', { outcome: 'pass' as const, violations: [], totalDebited: 0 }),
    concludeRun: answer('concludeRun', { outcome: 'pass' as const, violations: [], totalDebited: 0, closed: true }),
    beginRollback: answer('beginRollback', undefined),
    recordRunFailure: answer('recordRunFailure', undefined),
    finalizeRun: answer('finalizeRun', undefined),
    writeRecord: answer('writeRecord', { applied: true }),
    restoreRecord: answer('restoreRecord', { undone: true }),
    applyLifecycleTransition: answer('applyLifecycleTransition', undefined),
    recordRefusedTransition: answer('recordRefusedTransition', undefined),
    ...overrides,
  };
  return { calls, activities };
}

const ignored = { fn: () => undefined };
const quietSinks: InjectedSinks<ControlPlaneSinks> = {
  events: { emit: ignored },
  metrics: { provisioningFinished: ignored, runFinished: ignored, lifecycleTransition: ignored },
};

let environment: TestWorkflowEnvironment;

beforeAll(async () => {
  environment = await createTimeSkippingEnvironment();
});
afterAll(() => environment?.teardown());

async function withWorker<T>(activities: Partial<Activities>, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue('fast');
  const worker = await Worker.create({ connection: environment.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities, sinks: quietSinks });
  return worker.runUntil(body(taskQueue));
}

const runInput = (steps: RunStep[]): RunInput => ({ runId: randomUUID(), tenantId: randomUUID(), plan: { steps }, submittedBy: 'user:test' });
const startRun = (taskQueue: string, input: RunInput) => environment.client.workflow.start('runWorkflow', { taskQueue, workflowId: runWorkflowId(input.runId), args: [input] });

describe('run kernel branches, in memory', () => {
  it('goes on DEGRADED when its trace writes fail, and still completes', async () => {
    const traceDown = async () => {
      throw ApplicationFailure.create({ type: 'TraceDown', message: 'trace store down', nonRetryable: true });
    };
    const { calls, activities } = inMemoryActivities({ openRun: traceDown, recordRunPhase: traceDown, completeWaitStep: traceDown });
    const plan: RunStep[] = [{ kind: 'records.write', key: 'a', value: 1 }, { kind: 'wait', duration: '1s' }];
    const result = await withWorker(activities, async (taskQueue) => (await startRun(taskQueue, runInput(plan))).result());
    expect(result).toMatchObject({ phase: 'COMPLETED', degraded: true });
    // Marked once, however many trace writes failed after.
    expect(calls.filter((name) => name === 'markRunDegraded')).toHaveLength(1);
  });

  it('an approval nobody answers times out: the run rolls back its effects and ends ApprovalTimedOut', async () => {
    const { calls, activities } = inMemoryActivities();
    const input = runInput([
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'approval', timeout: '7d' },
    ]);
    const failure = await withWorker(activities, async (taskQueue) => (await startRun(taskQueue, input)).result().catch((error: unknown) => error));
    expect(failure).toMatchObject({ cause: { type: 'ApprovalTimedOut' } });
    expect(calls).toContain('restoreRecord');
    expect(calls.at(-1)).toBe('recordRunFailure');
  });

  it('an operator terminate during an approval wins over the timeout: OperatorTerminated, no approval recorded', async () => {
    const { calls, activities } = inMemoryActivities();
    const input = runInput([{ kind: 'approval', timeout: '7d' }]);
    const failure = await withWorker(activities, async (taskQueue) => {
      const handle = await startRun(taskQueue, input);
      await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
      await handle.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator:ada', reason: 'runaway' }] });
      return handle.result().catch((error: unknown) => error);
    });
    expect(failure).toMatchObject({ cause: { type: 'OperatorTerminated' } });
    expect(calls).not.toContain('recordApproval');
  });
});

describe('tenant lifecycle branches, in memory', () => {
  it('two suspends at once: the second is judged again after the first and refused, and its refusal recorded', async () => {
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let transitions = 0;
    const { calls, activities } = inMemoryActivities({
      applyLifecycleTransition: async () => {
        transitions += 1;
        if (transitions === 1) await firstHeld;
      },
    });
    const tenantId = randomUUID();
    const outcomes = await withWorker(activities, async (taskQueue) => {
      const handle = await startLifecycle(environment.client, taskQueue, tenantId);
      const both = Promise.allSettled([
        handle.executeUpdate(suspendUpdate, { args: [operator('first')] }),
        handle.executeUpdate(suspendUpdate, { args: [operator('second')] }),
      ]);
      await waitFor(async () => transitions === 1);
      releaseFirst();
      const settled = await both;
      expect((await handle.query(lifecycleStateQuery)).state).toBe('suspended');
      await handle.terminate('test over');
      return settled;
    });
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ cause: { type: 'TransitionNotAllowed' } });
    expect(transitions).toBe(1);
    expect(calls).toContain('recordRefusedTransition');
  });

  it('continues as new past its history bound and carries its state and count', async () => {
    const { activities } = inMemoryActivities();
    const tenantId = randomUUID();
    const view = await withWorker(activities, async (taskQueue) => {
      const handle = await startLifecycle(environment.client, taskQueue, tenantId, { testHooks: { historyLimit: 20 } });
      for (let round = 0; round < 3; round += 1) {
        await handle.executeUpdate(suspendUpdate, { args: [operator(`round ${round}`)] });
        await handle.executeUpdate(unsuspendUpdate, { args: [operator(`round ${round}`)] });
      }
      const latest = environment.client.workflow.getHandle(tenantLifecycleWorkflowId(tenantId));
      await waitFor(async () => (await latest.describe()).runId !== handle.firstExecutionRunId);
      const state = await latest.query(lifecycleStateQuery);
      await latest.terminate('test over');
      return state;
    });
    expect(view).toMatchObject({ state: 'active', transitionCount: 6 });
  });
});
