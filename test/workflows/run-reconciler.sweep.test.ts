import type { Worker } from '@temporalio/worker';
import type { reconcileRunAudits } from '../../workflows/reconciler';
import { isolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { craftBacklog } from '../support/run-backlog';
import { connectToDevServer, startWorker, uniqueSlug, uniqueTaskQueue, type DevServerHarness } from '../support/stack';

// A database of its own: a pass sweeps every unsettled run it finds, and the counts below must be this file's.
let temporal: DevServerHarness;
let isolated: IsolatedDatabase;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = uniqueTaskQueue('reconciler-sweep');

beforeAll(async () => {
  temporal = await connectToDevServer();
  isolated = await isolatedDatabase('reconciler_sweep');
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm: isolated.orm });
  workerRun = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await temporal?.close();
  await isolated?.drop();
});

const openFindings = async (runIds: string[]) =>
  Number((await isolated.orm.em.fork().execute(`select count(*) as n from run_audit_finding where run_id in (?) and resolved_at is null`, [runIds]))[0]?.n);

describe('a reconciler pass', () => {
  it('sweeps the whole backlog batch after batch: the newest run is examined behind 600 runs with lasting findings', async () => {
    const backlog = await craftBacklog(isolated.orm, 600, { newestMinutesAgo: 5 });
    const [newest] = await craftBacklog(isolated.orm, 1);
    const pass = await temporal.client.workflow.execute<typeof reconcileRunAudits>('reconcileRunAudits', {
      taskQueue,
      workflowId: uniqueSlug('reconciler-pass'),
      args: [{}],
    });
    expect(pass).toMatchObject({ scannedRuns: 601, settledRuns: 0, sweepComplete: true, detected: { missing: 601, drift: 0, stale: 0 } });
    expect(await openFindings([...backlog, newest!])).toBe(601);
  });
});
