import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { createProvisioningActivities } from '../../activities/provisioning';
import type { RunFaultPlan, RunInput } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import type { RunStep } from '../../src/domain/step-kinds';
import { tenantSchemaName, type TenantStatus } from '../../src/domain/tenant-status';
import { runWorkflowId } from '../../src/temporal/workflow-ids';
import type { runWorkflow } from '../../workflows/run';
import { provisionInput } from './provisioning';

export interface TestTenant {
  tenantId: string;
  slug: string;
  ownerEmail: string;
}

/** An active tenant with its schema, built by the real provisioning activities (no saga needed to get one). */
export async function createActiveTenant(orm: Orm, overrides: Parameters<typeof provisionInput>[0] = {}): Promise<TestTenant> {
  const input = provisionInput(overrides);
  const activities = createProvisioningActivities({ orm, faultInjection: false });
  const context = { tenantId: input.tenantId, workflowId: `provision:${input.slug}` };
  await activities.reserveTenant({ ...context, slug: input.slug, orgName: input.orgName });
  await activities.createOwner({ ...context, email: input.ownerEmail, passwordHash: input.passwordHash });
  await activities.openTrialBilling(context);
  await activities.createTenantSchema(context);
  await activities.initOnboarding(context);
  await activities.activateTenant(context);
  return { tenantId: input.tenantId, slug: input.slug, ownerEmail: input.ownerEmail };
}

export function runInput(tenantId: string, steps: RunStep[], options: { faultPlan?: RunFaultPlan; runId?: string } = {}): RunInput {
  return {
    runId: options.runId ?? randomUUID(),
    tenantId,
    plan: { steps },
    submittedBy: 'user:test',
    ...(options.faultPlan ? { faultPlan: options.faultPlan } : {}),
  };
}

export const startRun = (client: Client, taskQueue: string, input: RunInput) =>
  client.workflow.start<typeof runWorkflow>('runWorkflow', { taskQueue, workflowId: runWorkflowId(input.runId), args: [input] });

/** Everything a run can change in the tenant's own schema: its records and its ledger. */
export async function tenantData(orm: Orm, tenantId: string) {
  const em = orm.em.fork();
  const schema = `"${tenantSchemaName(tenantId)}"`;
  const records = await em.execute<Array<{ key: string; value: unknown }>>(`select key, value from ${schema}."record" order by key`);
  const ledger = await em.execute<Array<{ entry_key: string; amount: string }>>(`select entry_key, amount from ${schema}."credit_ledger" order by id`);
  return {
    records: Object.fromEntries(records.map((row) => [row.key, row.value])),
    ledger: ledger.map((row) => ({ key: row.entry_key, amount: Number(row.amount) })),
    balance: ledger.reduce((total, row) => total + Number(row.amount), 0),
  };
}

export async function seedRecord(orm: Orm, tenantId: string, key: string, value: unknown): Promise<void> {
  await orm.em.fork().execute(`insert into "${tenantSchemaName(tenantId)}"."record" (key, value) values (?, ?::jsonb) on conflict (key) do update set value = excluded.value`, [key, JSON.stringify(value)]);
}

export async function setTenantStatus(orm: Orm, tenantId: string, status: TenantStatus): Promise<void> {
  await orm.em.fork().execute(`update tenant set status = ?, updated_at = now() where id = ?`, [status, tenantId]);
}

export async function runAuditActions(orm: Orm, runId: string): Promise<string[]> {
  const rows = await orm.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where correlation_id = ? order by id`, [runId]);
  return rows.map((row) => row.action);
}

export async function runRow(orm: Orm, runId: string) {
  const rows = await orm.em.fork().execute(`select * from run where id = ?`, [runId]);
  return rows[0] as
    | { phase: string; outcome: string | null; cause: Record<string, unknown> | null; override: Record<string, unknown> | null; degraded: boolean; step_states: Array<{ state: string }> }
    | undefined;
}

export async function runAcks(orm: Orm, runId: string): Promise<string[]> {
  const rows = await orm.em.fork().execute<Array<{ key: string }>>(`select key from run_ack where run_id = ? order by key`, [runId]);
  return rows.map((row) => row.key);
}

export async function incidentOf(orm: Orm, runId: string) {
  const rows = await orm.em.fork().execute<Array<{ failure_type: string; cause: Record<string, unknown> }>>(`select failure_type, cause from run_incident where run_id = ?`, [runId]);
  return rows[0];
}
