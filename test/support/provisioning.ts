import type { Orm } from '../../src/db/orm';

export { PLACEHOLDER_PASSWORD_HASH, provisionInput } from '../../tools/fixtures/provisioning';

/** What one successful provisioning leaves: everything once, audited in saga order. */
export const FRESH_TENANT_FOOTPRINT = {
  status: 'active',
  onboardingState: 'provisioned',
  users: 1,
  memberships: 1,
  billingAccounts: 1,
  schemas: 1,
  auditActions: ['tenant.reserved', 'tenant.owner_created', 'billing.trial_opened', 'tenant.schema_created', 'onboarding.initialised', 'tenant.activated'],
};

/** Row counts of everything one tenant's provisioning touches. */
export async function tenantFootprint(orm: Orm, tenantId: string, email: string) {
  const em = orm.em.fork();
  const count = async (sql: string, params: unknown[]) => Number((await em.execute(sql, params))[0]?.count ?? 0);
  const tenant = (await em.execute('select status, onboarding_state from tenant where id = ?', [tenantId]))[0] as
    | { status: string; onboarding_state: string | null }
    | undefined;
  return {
    status: tenant?.status ?? null,
    onboardingState: tenant?.onboarding_state ?? null,
    users: await count('select count(*) from app_user where email = ?', [email.toLowerCase()]),
    memberships: await count('select count(*) from tenant_membership where tenant_id = ?', [tenantId]),
    billingAccounts: await count('select count(*) from billing_account where tenant_id = ?', [tenantId]),
    schemas: await count('select count(*) from information_schema.schemata where schema_name = ?', [`tenant_${tenantId.replace(/-/g, '')}`]),
    // The saga's own rows: the email verification it starts at the end writes its own, at its own pace.
    auditActions: (await em.execute<Array<{ action: string }>>(`select action from audit_event where tenant_id = ? and action not like 'verification.%' order by id`, [tenantId])).map(
      (row) => row.action,
    ),
  };
}
