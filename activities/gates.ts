import type { GateDecision } from '../src/domain/gate-decision';
import type { Orm } from '../src/db/orm';
import { checkLifecycle, createTenantStatusReader, type LifecycleBoundary } from '../src/gates/lifecycle-gate';

/**
 * Gate checks for workflows: a background write or a run step asks Postgres (the one source of truth) for the
 * tenant's state at the moment it acts, not the state the workflow saw when it started.
 */
export function createGateActivities(deps: { orm: Orm }) {
  const readStatus = createTenantStatusReader(deps.orm);
  return {
    async checkLifecycleGate(input: { tenantId: string; boundary: LifecycleBoundary }): Promise<GateDecision> {
      return checkLifecycle(readStatus, input.tenantId, input.boundary);
    },
  };
}

export type GateActivities = ReturnType<typeof createGateActivities>;
