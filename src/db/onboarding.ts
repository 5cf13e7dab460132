import type { EntityManager } from '@mikro-orm/postgresql';
import { nextOnboardingState, type OnboardingMilestone } from '../domain/lifecycle';
import type { OnboardingState } from '../domain/tenant-status';
import { recordAudit } from './audit';

/**
 * Moves a tenant's onboarding forward for a milestone, inside the caller's transaction: a compare-and-set on the state
 * it read, so two milestones at once cannot move it back, and an audit row per step.
 */
export async function advanceOnboarding(
  em: EntityManager,
  input: { tenantId: string; milestone: OnboardingMilestone; actor: string; correlationId?: string; seen?: OnboardingState | null },
): Promise<OnboardingState | undefined> {
  // Forward-only, so a state already past this milestone stays past it: most calls (every completed run after the
  // first) end here without the row lock, which would queue behind every running step's share lock on the tenant. A
  // caller that already read the state in its transaction passes it as `seen`.
  const seenState =
    input.seen !== undefined
      ? input.seen
      : (await em.execute<Array<{ onboarding_state: OnboardingState | null }>>('select onboarding_state from tenant where id = ?', [input.tenantId], 'all'))[0]?.onboarding_state;
  if (seenState && nextOnboardingState(seenState, input.milestone) === undefined) return undefined;
  const rows = await em.execute<Array<{ onboarding_state: OnboardingState | null }>>(
    'select onboarding_state from tenant where id = ? for update',
    [input.tenantId],
    'all',
  );
  const current = rows[0]?.onboarding_state;
  const next = nextOnboardingState(current, input.milestone);
  if (next === undefined) return undefined;
  await em.execute(`update tenant set onboarding_state = ?, onboarding_updated_at = now() where id = ? and onboarding_state = ?`, [next, input.tenantId, current], 'run');
  await recordAudit(em, {
    actor: input.actor,
    action: 'onboarding.advanced',
    entityType: 'tenant',
    entityId: input.tenantId,
    tenantId: input.tenantId,
    fromState: current,
    toState: next,
    correlationId: input.correlationId,
    idempotencyKey: `${input.tenantId}:onboarding.${next}`,
    details: { milestone: input.milestone },
  });
  return next;
}
