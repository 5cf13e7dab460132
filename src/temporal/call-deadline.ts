import type { ConnectionOptions } from '@temporalio/client';

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/**
 * Calls that wait on purpose (a workflow's result, an update's outcome): a default deadline would cut them short.
 * Made for an HTTP request they still carry the request's own deadline (see src/api/request-deadline.ts).
 */
const LONG_POLLS = new Set([
  '/temporal.api.workflowservice.v1.WorkflowService/GetWorkflowExecutionHistory',
  '/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowExecutionUpdate',
  '/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution',
  '/temporal.api.workflowservice.v1.WorkflowService/ExecuteMultiOperation',
]);

/**
 * Gives every other call without a deadline one, so no caller (an activity, a schedule's set-up) waits forever on a
 * frozen server. A deadline the caller set (Connection.withDeadline) is kept: it is the tighter one.
 */
export function defaultDeadlineInterceptor(timeoutMs: number): GrpcInterceptor {
  return (options, nextCall) => {
    const method = options.method_definition.path;
    const withDeadline = options.deadline !== undefined || LONG_POLLS.has(method) ? options : { ...options, deadline: Date.now() + timeoutMs };
    // Passing the next call through unwrapped is a valid interceptor; grpc-js types it as its own class only.
    return nextCall(withDeadline) as ReturnType<GrpcInterceptor>;
  };
}
