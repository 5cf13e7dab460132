import { createBillingActivities } from '../../activities/billing';
import type { Orm } from '../../src/db/orm';
import { provisionTeam } from '../support/auth';
import { testOrm } from '../support/stack';

let orm: Orm;
let activities: ReturnType<typeof createBillingActivities>;
beforeAll(async () => {
  orm = await testOrm();
  activities = createBillingActivities({ orm });
});
afterAll(() => orm.close(true));

const stateOf = async (tenantId: string) =>
  (await orm.em.fork().execute('select subscription_state from billing_account where tenant_id = ?', [tenantId]))[0]?.subscription_state;
const auditOf = async (tenantId: string) =>
  orm.em.fork().execute(`select action, from_state, to_state, actor from audit_event where tenant_id = ? and action like 'billing.%' order by id`, [tenantId]);

async function trialTenant() {
  const team = await provisionTeam(orm);
  const schedule = await activities.readTrialSchedule({ tenantId: team.tenantId });
  return { tenantId: team.tenantId, transition: { tenantId: team.tenantId, workflowId: `billing-trial:${team.tenantId}`, trialEndsAt: schedule!.trialEndsAt! } };
}

describe('billing trial activities', () => {
  it('read the trial end from the billing account', async () => {
    const team = await provisionTeam(orm);
    const schedule = await activities.readTrialSchedule({ tenantId: team.tenantId });
    expect(schedule?.subscriptionState).toBe('trial');
    const days = (Date.parse(schedule!.trialEndsAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThanOrEqual(14);
    expect(await activities.readTrialSchedule({ tenantId: '00000000-0000-4000-8000-000000000bad' })).toBeNull();
  });

  it('move trial to grace to expired, each with one audit event, and run twice change nothing the second time', async () => {
    const { tenantId, transition } = await trialTenant();
    expect(await activities.endTrial(transition)).toBe('grace');
    expect(await activities.endTrial(transition)).toBe('grace');
    expect(await activities.expireGrace(transition)).toBe('expired');
    expect(await activities.expireGrace(transition)).toBe('expired');
    expect(await stateOf(tenantId)).toBe('expired');
    const billingAudit = (await auditOf(tenantId)).filter((row) => row.action !== 'billing.trial_opened');
    expect(billingAudit).toEqual([
      { action: 'billing.trial_ended', from_state: 'trial', to_state: 'grace', actor: 'system:billing' },
      { action: 'billing.grace_expired', from_state: 'grace', to_state: 'expired', actor: 'system:billing' },
    ]);
  });

  it('never override a state someone else set: a paid tenant stays active when the timer fires', async () => {
    const { tenantId, transition } = await trialTenant();
    await orm.em.fork().execute(`update billing_account set subscription_state = 'active', plan = 'pro' where tenant_id = ?`, [tenantId]);
    expect(await activities.endTrial(transition)).toBe('active');
    expect(await activities.expireGrace(transition)).toBe('active');
    expect(await stateOf(tenantId)).toBe('active');
  });

  it('leave a re-armed trial alone: a timer of the earlier trial end date changes nothing', async () => {
    const { tenantId, transition } = await trialTenant();
    await orm.em.fork().execute(`update billing_account set trial_ends_at = now() + interval '14 days' where tenant_id = ?`, [tenantId]);
    expect(await activities.endTrial(transition)).toBe('trial');
    expect(await stateOf(tenantId)).toBe('trial');
    expect((await auditOf(tenantId)).map((row) => row.action)).not.toContain('billing.trial_ended');
  });

  it('end a trial whose end date Postgres wrote to the microsecond, which the timer reads to the millisecond', async () => {
    const team = await provisionTeam(orm);
    await orm.em.fork().execute(`update billing_account set trial_ends_at = now() - interval '1 day' + interval '123.999 milliseconds' where tenant_id = ?`, [team.tenantId]);
    const schedule = await activities.readTrialSchedule({ tenantId: team.tenantId });
    expect(await activities.endTrial({ tenantId: team.tenantId, workflowId: `billing-trial:${team.tenantId}`, trialEndsAt: schedule!.trialEndsAt! })).toBe('grace');
  });

  it('answer null when the billing account is gone', async () => {
    const transition = { tenantId: '00000000-0000-4000-8000-000000000bad', workflowId: 'w', trialEndsAt: new Date().toISOString() };
    expect(await activities.endTrial(transition)).toBeNull();
  });
});
