import type { Sinks } from '@temporalio/workflow';

/** An event a workflow reports; the worker adds the workflow id and hands it to the non-blocking event sink. */
export interface WorkflowEvent {
  type: string;
  tenantId?: string;
  runId?: string;
  actor?: string;
  data?: Record<string, unknown>;
}

/** Fire-and-forget calls from workflow code to the worker's observability; not called again on replay. */
export interface ControlPlaneSinks extends Sinks {
  metrics: {
    provisioningFinished(outcome: 'active' | 'failed' | 'rollback_failed' | 'existing_account', durationSeconds: number): void;
    runFinished(outcome: 'completed' | 'failed', durationSeconds: number): void;
    lifecycleTransition(from: string, to: string): void;
  };
  events: {
    emit(event: WorkflowEvent): void;
  };
}
