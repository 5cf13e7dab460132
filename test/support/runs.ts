import type { Orm } from '../../src/db/orm';
import { tenantSchemaName, type TenantStatus } from '../../src/domain/tenant-status';

export { createActiveTenant, runInput, seedRecord, startRun, type TestTenant } from '../../tools/fixtures/runs';

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
