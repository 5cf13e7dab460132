import { NativeConnection, Worker } from '@temporalio/worker';
import type { BenchTarget } from '../targets';
import { createBaselineActivities } from './activities';

export interface BaselineWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * The benchmarks' baseline runs on a worker of its own, so the product's bundle carries no benchmark code. Same
 * Temporal server as the product's workers, and the series alternate, so both pay the same machine.
 */
export async function startBaselineWorker(target: Pick<BenchTarget, 'temporalAddress' | 'config'>): Promise<BaselineWorker> {
  const connection = await NativeConnection.connect({ address: target.temporalAddress });
  const taskQueue = `${target.config.TEMPORAL_TASK_QUEUE}-baseline`;
  const worker = await Worker.create({
    connection,
    namespace: target.config.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: createBaselineActivities(),
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
