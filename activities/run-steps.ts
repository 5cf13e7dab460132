import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { StepError, type RunContext, type RunStepContext } from '../src/contracts/run';
import type { Orm } from '../src/db/orm';
import { acknowledgeWithAudit } from '../src/db/run-trail';
import { compensationKey, stepKey } from '../src/domain/run-audit';
import type { EffectStep, EffectStepKind, StepOfKind } from '../src/domain/step-kinds';
import { tenantSchemaName } from '../src/domain/tenant-status';
import type { GateRecorder } from '../src/gates/gate-recorder';
import type { KillSwitches } from '../src/gates/kill-switch-gate';
import { assertRunMayProceed } from './run-guard';

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

/**
 * The executors and compensations of the effect step kinds. An executor checks the mid-run guard, applies its
 * effect, and writes its ack and audit event in one transaction; a retry finds its own trace (undo row, ledger key)
 * and changes nothing. A compensation is safe for a step that never ran and changes nothing the second time.
 */
export function createRunStepActivities(deps: RunStepDependencies) {
  async function applyStep<Kind extends EffectStepKind>(
    call: StepCall<Kind>,
    effect: (em: EntityManager) => Promise<{ applied: boolean; details: Record<string, unknown> }>,
  ): Promise<StepReport> {
    const report = await deps.orm.em.fork().transactional(async (em) => {
      const guarded = await assertRunMayProceed(em, call, { switches: deps.killSwitches, gates: deps.gates });
      if (!guarded.tenantTablesPresent) {
        throw ApplicationFailure.create({ type: StepError.TenantSchemaMissing, message: "the tenant's schema does not exist", nonRetryable: true });
      }
      const outcome = await effect(em);
      await acknowledgeWithAudit(em, call, stepKey(call.stepIndex), 'run.step_applied', `${stepKey(call.stepIndex)}:applied`, {
        details: { stepIndex: call.stepIndex, kind: (call.step as EffectStep).kind, ...outcome.details },
      });
      return { applied: outcome.applied };
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
   * Captures what the key held, in the same transaction as the change; a retry finds its undo row and stops. A key
   * changed by a run still in flight is held by it (a semantic lock) until that run finishes: otherwise two runs
   * rolling back in the wrong order would restore each other's values.
   */
  async function captureUndo(em: EntityManager, call: StepCall<'records.write' | 'records.delete'>): Promise<{ alreadyApplied: boolean; existed: boolean }> {
    // Serialises two runs claiming the same key at the same moment; released at commit. A retry finds its undo row.
    const [claim] = await em.execute<Array<{ earlier: boolean }>>(
      `select pg_advisory_xact_lock(hashtext(?)) is null as locked, exists (select 1 from run_step_undo where run_id = ? and step_index = ?) as earlier`,
      [`run-record:${call.tenantId}:${call.step.key}`, call.runId, call.stepIndex],
    );
    if (claim!.earlier) return { alreadyApplied: true, existed: true };
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
    await em.execute(
      `insert into run_step_undo (run_id, step_index, tenant_id, record_key, existed, previous_value, created_at) values (?, ?, ?, ?, ?, ?::jsonb, now())`,
      [call.runId, call.stepIndex, call.tenantId, call.step.key, existed, existed ? JSON.stringify(found!.value) : null],
    );
    return { alreadyApplied: false, existed };
  }

  return {
    async writeRecord(call: StepCall<'records.write'>): Promise<StepReport> {
      return applyStep(call, async (em) => {
        const { alreadyApplied, existed } = await captureUndo(em, call);
        if (!alreadyApplied) {
          await em.execute(
            `insert into ${tenantTable(call.tenantId, 'record')} (key, value, updated_at) values (?, ?::jsonb, now())
               on conflict (key) do update set value = excluded.value, updated_at = now()`,
            [call.step.key, JSON.stringify(call.step.value)],
          );
        }
        return { applied: !alreadyApplied, details: { key: call.step.key, replaced: existed } };
      });
    },

    async deleteRecord(call: StepCall<'records.delete'>): Promise<StepReport> {
      return applyStep(call, async (em) => {
        const { alreadyApplied, existed } = await captureUndo(em, call);
        if (!alreadyApplied && !existed) {
          throw ApplicationFailure.create({ type: StepError.RecordNotFound, message: `no record with key ${call.step.key}`, nonRetryable: true });
        }
        if (!alreadyApplied) await em.execute(`delete from ${tenantTable(call.tenantId, 'record')} where key = ?`, [call.step.key]);
        return { applied: !alreadyApplied, details: { key: call.step.key } };
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
      return applyStep(call, (em) => appendLedgerEntry(em, call, -call.step.amount));
    },

    async refundCredits(call: StepCall<'credits.refund'>): Promise<StepReport> {
      return applyStep(call, (em) => appendLedgerEntry(em, call, call.step.amount));
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

async function appendLedgerEntry(em: EntityManager, call: StepCall<'credits.debit' | 'credits.refund'>, amount: number) {
  const inserted = await em.execute<{ affectedRows: number }>(
    `insert into ${tenantTable(call.tenantId, 'credit_ledger')} (entry_key, amount, reason, created_at) values (?, ?, ?, now()) on conflict (entry_key) do nothing`,
    [ledgerEntryKey(call.runId, call.stepIndex), amount, `${call.step.reason ?? call.step.kind} (run ${call.runId}, step ${call.stepIndex})`],
    'run',
  );
  return { applied: inserted.affectedRows > 0, details: { amount } };
}

export type RunStepActivities = ReturnType<typeof createRunStepActivities>;
