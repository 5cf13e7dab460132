import type { Worker } from '@temporalio/worker';
import type { Orm } from '../../src/db/orm';
import { tenantWorld } from './auth';
import { tenantData } from './runs';
import { waitFor } from './wait';

/**
 * Everything a refused request could have changed for the fuzzed tenants: tenantWorld (state, billing, keys, sessions,
 * memberships, audit trail), their runs and what hangs off them, their events, and the records and ledger in the
 * tenants' own schemas.
 */
export async function fuzzWorld(orm: Orm, scope: { tenantIds: string[]; dataOf: string[] }) {
  const em = orm.em.fork();
  const count = async (sql: string) => Number((await em.execute<Array<{ count: string }>>(sql, [scope.tenantIds]))[0]?.count ?? 0);
  return {
    ...(await tenantWorld(orm, scope.tenantIds)),
    runs: await em.execute('select id, phase, outcome from run where tenant_id in (?) order by id', [scope.tenantIds]),
    runIncidents: await count('select count(*) from run_incident where tenant_id in (?)'),
    stepUndos: await count('select count(*) from run_step_undo where tenant_id in (?)'),
    policyRules: await count('select count(*) from policy_rule where tenant_id in (?)'),
    domainEvents: await count('select count(*) from domain_event where tenant_id in (?)'),
    archives: await count('select count(*) from tenant_archive where tenant_id in (?)'),
    data: await Promise.all(scope.dataOf.map((tenantId) => tenantData(orm, tenantId))),
  };
}

/**
 * Tables whose rows count requests, refused ones included: a refused request that counts toward its client's budget or
 * failure throttle is doing what those tables are for, and changes nothing of any tenant's world.
 */
const REQUEST_COUNTERS = /\b(insert\s+into|update|delete\s+from)\s+"?(request_budget_counter|rate_limit_counter|credential_throttle)\b/i;
const WRITE_STATEMENT = /\b(insert\s+into|delete\s+from|update\s+("?[\w.]+"?)\s+set|truncate|create\s+(table|schema|index)|drop\s+(table|schema|index)|alter\s+table|merge\s+into|copy\s)/i;

interface KnexQuery {
  sql?: string;
  __knexTxId?: string;
}

/** Rows a statement changed, from what knex hands back: a count, a pg result, or the rows it returned. */
function rowsChanged(response: unknown): number {
  if (typeof response === 'number') return response;
  const rowCount = (response as { rowCount?: unknown } | null)?.rowCount;
  if (typeof rowCount === 'number') return rowCount;
  if (Array.isArray(response)) return response.length;
  // DDL reports no count: creating or dropping anything is a write.
  return 1;
}

/**
 * Every statement that changed a row, sent through one ORM's connection pool (a transaction's, once it commits). The
 * app under test gets an ORM of its own, so whatever it writes while a request is in flight that request wrote.
 */
export function watchWrites(orm: Orm) {
  let statements: string[] = [];
  const pending = new Map<string, string[]>();
  const knex = orm.em.getConnection().getKnex();
  knex.on('query-response', (response: unknown, query: KnexQuery) => {
    if (!query.sql || !WRITE_STATEMENT.test(query.sql) || REQUEST_COUNTERS.test(query.sql) || rowsChanged(response) === 0) return;
    const statement = `${query.sql.replace(/\s+/g, ' ').slice(0, 200)} (${rowsChanged(response)} rows)`;
    if (query.__knexTxId) pending.set(query.__knexTxId, [...(pending.get(query.__knexTxId) ?? []), statement]);
    else statements.push(statement);
  });
  knex.on('query', (query: KnexQuery) => {
    if (!query.__knexTxId || !query.sql) return;
    if (/^\s*rollback\b/i.test(query.sql)) pending.delete(query.__knexTxId);
    if (/^\s*(commit|release\s+savepoint)\b/i.test(query.sql)) {
      statements.push(...(pending.get(query.__knexTxId) ?? []));
      pending.delete(query.__knexTxId);
    }
  });
  return {
    /** The committed writes since the last call, and a fresh start. */
    take(): string[] {
      const taken = statements;
      statements = [];
      return taken;
    },
  };
}

/**
 * Waits until what an accepted request set going (a run, a transition, an offboarding) has stopped writing: the worker
 * holds no activation or activity, its buffered domain events are written (`flushEvents`: the sink writes them on a
 * timer, so a quiet world could otherwise change a moment later), and the world reads the same three times running.
 */
export async function settle(worker: Worker, world: () => Promise<unknown>, flushEvents: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  await flushEvents();
  let previous = JSON.stringify(await world());
  let quietReads = 0;
  const settled = waitFor(
    async () => {
      const status = worker.getStatus();
      const idle = status.numInFlightActivities === 0 && status.numInFlightWorkflowActivations === 0;
      await flushEvents();
      const now = JSON.stringify(await world());
      quietReads = idle && now === previous ? quietReads + 1 : 0;
      previous = now;
      return quietReads >= 3;
    },
    { timeoutMs, intervalMs: 100 },
  );
  await settled.catch((error: Error) => {
    throw new Error(`what an accepted request set going was still writing after ${timeoutMs} ms (${error.message})`);
  });
}

/**
 * Test setup only: the enterprise plan's ceilings (200 concurrent runs), so the fuzz's accepted runs do not turn every
 * later valid plan into a 429 before its validators matter.
 */
export async function onEnterprisePlan(orm: Orm, tenantId: string): Promise<void> {
  await orm.em.fork().execute(`update billing_account set plan = 'enterprise', subscription_state = 'active', updated_at = now() where tenant_id = ?`, [tenantId]);
}
