import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { StepError, type RunContext, type RunStepContext } from '../src/contracts/run';
import type { Orm } from '../src/db/orm';
import { acknowledgeWithAudit, applyWithTrail, type Change } from '../src/db/run-trail';
import { compensationKey, stepKey } from '../src/domain/run-audit';
import type { EffectStep, EffectStepKind, StepOfKind } from '../src/domain/step-kinds';
import { tenantSchemaName } from '../src/domain/tenant-status';
import type { GateRecorder } from '../src/gates/gate-recorder';
import type { KillSwitches } from '../src/gates/kill-switch-gate';
import { assertRunMayProceed, type AlongsideRead } from './run-guard';

export interface RunStepDependencies {
  orm: Orm;
  /** DISABLE_RUN_EXECUTION stops running work at its next step, not only new submissions. */
  killSwitches?: KillSwitches;
  /** Records the guard's decisions before each step, as the API's are. */
  gates?: GateRecorder;
}

export type StepCall<Kind extends EffectStepKind> = RunStepContext & { step: StepOfKind<Kind> };
export type CompensationCall = RunContext & { stepIndex: number; kind: EffectStepKind };

export interface StepReport {
  /** False when a retry found the effect already committed by an earlier attempt and changed nothing. */
  applied: boolean;
}

/** A table of the tenant's own schema; the schema name derives from a uuid, so it needs no escaping beyond quotes. */
const tenantTable = (tenantId: string, table: 'record' | 'credit_ledger') => `"${tenantSchemaName(tenantId)}"."${table}"`;

async function tenantTablesExist(em: EntityManager, tenantId: string): Promise<boolean> {
  const rows = await em.execute<Array<{ present: boolean }>>(`select to_regclass(?) is not null as present`, [`${tenantSchemaName(tenantId)}.credit_ledger`]);
  return rows[0]?.present === true;
}

const ledgerEntryKey = (runId: string, stepIndex: number) => `${runId}:${stepIndex}`;

/** What a step will change, planned inside its transaction once the guard let it through. */
interface PlannedEffect {
  /** Sent with the step's ack and audit event as one statement. */
  changes: Change[];
  details: Record<string, unknown>;
  /** Whether the step changed anything; when not given, whether its first change wrote a row. */
  applied?: boolean;
}

/**
 * The executors and compensations of the effect step kinds. An executor checks the mid-run guard, applies its
 * effect, and writes its ack and audit event in one transaction; a retry finds its own trace (undo row, ledger key)
 * and changes nothing. A compensation is safe for a step that never ran and changes nothing the second time.
 * Round trips are few on purpose (docs/performance.md): the guard's read carries a records step's claim, and the
 * effect goes out with the ack and the audit event in one statement.
 */
export function createRunStepActivities(deps: RunStepDependencies) {
  async function applyStep<Kind extends EffectStepKind>(
    call: StepCall<Kind>,
    claim: AlongsideRead | undefined,
    plan: (em: EntityManager, claimed: Record<string, unknown>) => Promise<PlannedEffect>,
  ): Promise<StepReport> {
    const report = await deps.orm.em.fork().transactional(async (em) => {
      const guarded = await assertRunMayProceed(em, call, { switches: deps.killSwitches, gates: deps.gates }, claim);
      if (!guarded.tenantTablesPresent) {
        throw ApplicationFailure.create({ type: StepError.TenantSchemaMissing, message: "the tenant's schema does not exist", nonRetryable: true });
      }
      const planned = await plan(em, guarded.alongside);
      const written = await applyWithTrail(
        em,
        call,
        {
          key: stepKey(call.stepIndex),
          action: 'run.step_applied',
          effect: `${stepKey(call.stepIndex)}:applied`,
          details: { stepIndex: call.stepIndex, kind: (call.step as EffectStep).kind, ...planned.details },
        },
        planned.changes,
      );
      return { applied: planned.applied ?? (written[0] ?? 0) > 0 };
    });
    return report;
  }

  async function compensate(call: CompensationCall, undo: (em: EntityManager) => Promise<{ undone: boolean }>): Promise<{ undone: boolean }> {
    return deps.orm.em.fork().transactional(async (em) => {
      // An offboarded tenant's schema may already be gone: then there is nothing left to restore.
      const outcome = (await tenantTablesExist(em, call.tenantId)) ? await undo(em) : { undone: false };
      await acknowledgeWithAudit(em, call, compensationKey(call.stepIndex), 'run.step_compensated', `${compensationKey(call.stepIndex)}:done`, {
        details: { stepIndex: call.stepIndex, kind: call.kind, undone: outcome.undone },
      });
      return outcome;
    });
  }

  /**
   * A records step's claim on its key, read with the guard: an advisory lock that serialises two runs claiming the
   * same key at the same moment (released at commit), and whether an earlier attempt of this step left its undo row.
   */
  const claimOf = (call: StepCall<'records.write' | 'records.delete'>): AlongsideRead => ({
    columns: `pg_advisory_xact_lock(hashtext(?)) is null as locked, exists (select 1 from run_step_undo where run_id = ? and step_index = ?) as earlier`,
    params: [`run-record:${call.tenantId}:${call.step.key}`, call.runId, call.stepIndex],
  });

  /**
   * What the key holds, read under the claim (row-locked), and the undo row to write with the change. A key changed
   * by a run still in flight is held by it (a semantic lock) until that run finishes: otherwise two runs rolling back
   * in the wrong order would restore each other's values. A retry that finds its undo row changes nothing.
   */
  async function captureUndo(
    em: EntityManager,
    call: StepCall<'records.write' | 'records.delete'>,
    claimed: Record<string, unknown>,
  ): Promise<{ alreadyApplied: true; existed: true } | { alreadyApplied: false; existed: boolean; undo: Change }> {
    if (claimed.earlier === true) return { alreadyApplied: true, existed: true };
    // The holder, if any, and what the key holds now (row-locked), in one round trip.
    const [found] = await em.execute<Array<{ holder: string | null; existed: boolean; value: unknown }>>(
      `with previous as (select value from ${tenantTable(call.tenantId, 'record')} where key = ? for update)
       select (select u.run_id from run_step_undo u left join run r on r.id = u.run_id
                 where u.tenant_id = ? and u.record_key = ? and u.run_id <> ? and u.restored_at is null and (r.id is null or r.outcome is null)
                 limit 1) as holder,
              exists (select 1 from previous) as existed,
              (select value from previous) as value`,
      [call.step.key, call.tenantId, call.step.key, call.runId],
    );
    if (found!.holder !== null) {
      throw ApplicationFailure.create({ type: StepError.RecordBusy, message: `record ${call.step.key} is held by run ${found!.holder} until it finishes` });
    }
    const existed = found!.existed;
    const undo: Change = {
      sql: `insert into run_step_undo (run_id, step_index, tenant_id, record_key, existed, previous_value, created_at) values (?, ?, ?, ?, ?, ?::jsonb, now()) returning 1`,
      params: [call.runId, call.stepIndex, call.tenantId, call.step.key, existed, existed ? JSON.stringify(found!.value) : null],
    };
    return { alreadyApplied: false, existed, undo };
  }

  return {
    async writeRecord(call: StepCall<'records.write'>): Promise<StepReport> {
      return applyStep(call, claimOf(call), async (em, claimed) => {
        const capture = await captureUndo(em, call, claimed);
        const details = { key: call.step.key, replaced: capture.existed };
        if (capture.alreadyApplied) return { changes: [], details, applied: false };
        const write: Change = {
          sql: `insert into ${tenantTable(call.tenantId, 'record')} (key, value, updated_at) values (?, ?::jsonb, now())
                  on conflict (key) do update set value = excluded.value, updated_at = now() returning 1`,
          params: [call.step.key, JSON.stringify(call.step.value)],
        };
        return { changes: [capture.undo, write], details, applied: true };
      });
    },

    async deleteRecord(call: StepCall<'records.delete'>): Promise<StepReport> {
      return applyStep(call, claimOf(call), async (em, claimed) => {
        const capture = await captureUndo(em, call, claimed);
        const details = { key: call.step.key };
        if (capture.alreadyApplied) return { changes: [], details, applied: false };
        if (!capture.existed) {
          throw ApplicationFailure.create({ type: StepError.RecordNotFound, message: `no record with key ${call.step.key}`, nonRetryable: true });
        }
        const remove: Change = { sql: `delete from ${tenantTable(call.tenantId, 'record')} where key = ? returning 1`, params: [call.step.key] };
        return { changes: [capture.undo, remove], details, applied: true };
      });
    },

    /** Compensates records.write and records.delete: puts back exactly what the step found, once. */
    async restoreRecord(call: CompensationCall): Promise<{ undone: boolean }> {
      return compensate(call, async (em) => {
        const undo = await em.execute<Array<{ record_key: string; existed: boolean; previous_value: unknown }>>(
          `update run_step_undo set restored_at = now() where run_id = ? and step_index = ? and restored_at is null
             returning record_key, existed, previous_value`,
          [call.runId, call.stepIndex],
        );
        const found = undo[0];
        if (!found) return { undone: false };
        const records = tenantTable(call.tenantId, 'record');
        if (found.existed) {
          await em.execute(
            `insert into ${records} (key, value, updated_at) values (?, ?::jsonb, now()) on conflict (key) do update set value = excluded.value, updated_at = now()`,
            [found.record_key, JSON.stringify(found.previous_value)],
          );
        } else {
          await em.execute(`delete from ${records} where key = ?`, [found.record_key]);
        }
        return { undone: true };
      });
    },

    async debitCredits(call: StepCall<'credits.debit'>): Promise<StepReport> {
      return applyStep(call, undefined, async () => ledgerEntry(call, -call.step.amount));
    },

    async refundCredits(call: StepCall<'credits.refund'>): Promise<StepReport> {
      return applyStep(call, undefined, async () => ledgerEntry(call, call.step.amount));
    },

    /** Compensates credits.debit and credits.refund: the inverse entry, only if the original exists, keyed so it is written once. */
    async reverseCreditEntry(call: CompensationCall): Promise<{ undone: boolean }> {
      return compensate(call, async (em) => {
        const ledger = tenantTable(call.tenantId, 'credit_ledger');
        const original = ledgerEntryKey(call.runId, call.stepIndex);
        const inserted = await em.execute<{ affectedRows: number }>(
          `insert into ${ledger} (entry_key, amount, reason, created_at)
             select ?, -amount, ?, now() from ${ledger} where entry_key = ?
             on conflict (entry_key) do nothing`,
          [`${original}:compensation`, `rollback of run ${call.runId} step ${call.stepIndex}`, original],
          'run',
        );
        return { undone: inserted.affectedRows > 0 };
      });
    },
  };
}

/** A credit step's ledger entry, keyed by run and step: a retry's insert writes nothing, and the step reports it unapplied. */
function ledgerEntry(call: StepCall<'credits.debit' | 'credits.refund'>, amount: number): PlannedEffect {
  return {
    changes: [
      {
        sql: `insert into ${tenantTable(call.tenantId, 'credit_ledger')} (entry_key, amount, reason, created_at) values (?, ?, ?, now()) on conflict (entry_key) do nothing returning 1`,
        params: [ledgerEntryKey(call.runId, call.stepIndex), amount, `${call.step.reason ?? call.step.kind} (run ${call.runId}, step ${call.stepIndex})`],
      },
    ],
    details: { amount },
  };
}

export type RunStepActivities = ReturnType<typeof createRunStepActivities>;
