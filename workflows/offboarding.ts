import { proxyActivities, proxySinks, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/lifecycle';
import type { OffboardingActivities } from '../activities/offboarding';
import {
  offboardingProgressQuery,
  type OffboardingProgress,
  type OffboardingResult,
  type OffboardingStep,
  type OffboardTenantInput,
} from '../src/contracts/lifecycle';
import type { ControlPlaneSinks } from '../src/contracts/sinks';

// Offboarding only goes forward and must finish: every step is idempotent and retried without limit, backing off to
// a minute, so a database or Temporal outage delays it but never leaves the tenant half-alive.
const offboardingSteps = proxyActivities<OffboardingActivities & LifecycleActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Waiting for the tenant's runs to roll back can take a while; heartbeats tell a live wait from a dead worker.
const waitForRuns = proxyActivities<OffboardingActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { events } = proxySinks<ControlPlaneSinks>();

/**
 * OFFBOARD-001: revoke credentials, stop the tenant's runs, export its data, purge it, then mark it terminated.
 * Runs as a child of the tenant's lifecycle workflow; it never consults the lifecycle gate, so a suspended or
 * pending-deletion tenant cannot block its own offboarding.
 */
export async function offboardTenant(input: OffboardTenantInput): Promise<OffboardingResult> {
  const { workflowId } = workflowInfo();
  const progress: OffboardingProgress = { tenantId: input.tenantId, trigger: input.trigger, currentStep: null, completed: [], archiveChecksum: null };
  setHandler(offboardingProgressQuery, () => progress);
  const context = { tenantId: input.tenantId, workflowId, actor: input.actor, reason: input.reason };

  const run = async <T>(name: OffboardingStep, act: () => Promise<T>): Promise<T> => {
    progress.currentStep = name;
    const result = await act();
    progress.completed.push(name);
    events.emit({ type: `offboarding.${name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`, tenantId: input.tenantId, actor: input.actor, data: { trigger: input.trigger } });
    return result;
  };

  await run('revokeCredentials', () => offboardingSteps.revokeTenantCredentials(context));
  const { terminated } = await run('cancelRuns', () => waitForRuns.terminateTenantRuns(context));
  const archive = await run('exportArchive', () => offboardingSteps.exportTenantArchive(context));
  progress.archiveChecksum = archive.checksum;
  await run('purgeData', () => offboardingSteps.purgeTenantData(context));
  await run('markTerminated', () =>
    offboardingSteps.markTenantTerminated({
      tenantId: input.tenantId,
      workflowId,
      action: 'terminate',
      from: 'pending_deletion',
      to: 'terminated',
      actor: input.actor,
      reason: input.reason,
      transitionKey: `${input.tenantId}:lifecycle.terminated`,
      details: { trigger: input.trigger, archiveChecksum: archive.checksum },
    }),
  );
  progress.currentStep = null;
  return { tenantId: input.tenantId, archiveChecksum: archive.checksum, runsTerminated: terminated };
}
