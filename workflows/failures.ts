import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { storableText } from '../src/domain/storable-text';

/**
 * The one place workflows take failures apart and make their own. Temporal wraps what an activity (or a child) raised
 * in an ActivityFailure (ChildWorkflowFailure); workflows decide on the failure inside.
 */

/** Failure messages are recorded in audit rows and histories: cut to a size both can always carry. */
const MESSAGE_LIMIT = 1000;

/** What the activity or child raised, or the error itself when nothing wraps it. */
export function innerFailure(error: unknown): unknown {
  if ((error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) && error.cause) return error.cause;
  return error;
}

/** The application failure type of what was raised (`SlugTaken`, `InvalidData`…), if it was an application failure. */
export function failureType(error: unknown): string | undefined {
  const inner = innerFailure(error);
  return inner instanceof ApplicationFailure ? (inner.type ?? undefined) : undefined;
}

/** The application failure type, or the error's class name (`TimeoutFailure`…) for anything else. */
export function failureKind(error: unknown): string | undefined {
  const inner = innerFailure(error);
  if (inner instanceof ApplicationFailure) return inner.type ?? undefined;
  return inner instanceof Error ? inner.name : undefined;
}

/** The message of what was raised, storable and cut. */
export function failureMessage(error: unknown): string {
  const inner = innerFailure(error);
  return storableText(inner instanceof Error ? inner.message : String(inner), MESSAGE_LIMIT);
}

/** A failure that must not be retried: a refusal, a deliberate end, a saga's outcome. `details` travel with it. */
export function permanentFailure(type: string, message: string, details?: unknown[]): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details } : {}) });
}

/** An activity's permanent refusal raised again as the workflow's (or update's) own: the caller sees its type and words. */
export function asOwnFailure(error: unknown): unknown {
  const inner = innerFailure(error);
  if (inner !== error && inner instanceof ApplicationFailure) return permanentFailure(inner.type ?? 'Error', inner.message);
  return error;
}
