import { NativeConnection, Worker } from '@temporalio/worker';
import type { BenchStack } from '../stack';
import { createBaselineActivities } from './activities';

export interface BaselineWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/**
 * The benchmarks' baseline runs on a worker of its own, so the product's bundle carries no benchmark code. Same process
 * and dev server as the stack's worker, and the series alternate, so both pay the same machine.
 */
export async function startBaselineWorker(stack: BenchStack): Promise<BaselineWorker> {
  const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  const taskQueue = `${stack.config.TEMPORAL_TASK_QUEUE}-baseline`;
  const worker = await Worker.create({
    connection,
    namespace: stack.config.TEMPORAL_NAMESPACE,
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
