import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { terminateRunUpdate, type OperatorOverrideInput } from '../src/contracts/run';
import { recordAudit } from '../src/db/audit';
import { TenantArchive } from '../src/db/entities';
import type { Orm } from '../src/db/orm';
import { releaseUnverifiedTenantName } from '../src/db/signup-names';
import { dropTenantTables, tenantSchemaExists } from '../src/db/tenant-schema';
import { tenantSchemaName } from '../src/domain/tenant-status';
import { listRunningRunsOfTenant } from '../src/temporal/run-visibility';
import { runWorkflowId } from '../src/temporal/workflow-ids';

export interface OffboardingDependencies {
  orm: Orm;
  /** Reaches the tenant's runs through the same terminate update an operator uses. */
  client: Client;
}

export interface OffboardingStepInput {
  tenantId: string;
  workflowId: string;
  actor: string;
  reason: string | null;
}

const ARCHIVE_FORMAT = 'tenant-archive/v1';
/** How often terminateTenantRuns lists a tenant's runs before it leaves the rest to a retry (about 20 s of waiting). */
const VISIBILITY_ROUNDS = 12;

/**
 * Offboarding's steps, in the order the workflow runs them. Each is idempotent: run again after a crash or a retry,
 * it finds its work done and changes nothing. None has a compensation: offboarding only goes forward.
 */
export function createOffboardingActivities(deps: OffboardingDependencies) {
  const audit = (em: EntityManager, input: OffboardingStepInput, action: string, details: Record<string, unknown>) =>
    recordAudit(em, {
      actor: input.actor,
      action,
      entityType: 'tenant',
      entityId: input.tenantId,
      tenantId: input.tenantId,
      reason: input.reason,
      correlationId: input.workflowId,
      idempotencyKey: `${input.tenantId}:${action}`,
      details,
    });

  /** The tenant's runs whose row says unfinished, keyed by run id, with their workflow ids. */
  const unfinishedRunRows = async (tenantId: string): Promise<Map<string, string>> => {
    const rows = await deps.orm.em
      .fork()
      .execute<Array<{ id: string }>>('select id from run where tenant_id = ? and finished_at is null order by created_at', [tenantId]);
    return new Map(rows.map(({ id }) => [id, runWorkflowId(id)]));
  };

  /** Asks one run to terminate and waits for it to end; true if it accepted the request. */
  const endRun = async (runId: string, workflowId: string, request: OperatorOverrideInput): Promise<boolean> => {
    Context.current().heartbeat({ runId });
    const handle = deps.client.workflow.getHandle(workflowId);
    let accepted = false;
    try {
      await handle.executeUpdate(terminateRunUpdate, { args: [request] });
      accepted = true;
    } catch (error) {
      // Already finishing, rolling back, or gone: it ends on its own, and is waited for below.
      if (!(error instanceof WorkflowUpdateFailedError) && !(error instanceof WorkflowNotFoundError)) throw error;
    }
    await waitForEnd(handle.result(), () => Context.current().heartbeat({ runId }));
    return accepted;
  };

  return {
    /** Every API key and refresh token of the tenant stops working. */
    async revokeTenantCredentials(input: OffboardingStepInput): Promise<{ apiKeys: number; refreshTokens: number }> {
      return deps.orm.em.fork().transactional(async (em) => {
        const keys = await em.execute<{ affectedRows: number }>(
          'update api_key set revoked_at = now(), revoked_by = ? where tenant_id = ? and revoked_at is null',
          [input.actor, input.tenantId],
          'run',
        );
        const tokens = await em.execute<{ affectedRows: number }>(
          `update refresh_token set revoked_at = now(), revoked_reason = 'offboarded' where tenant_id = ? and revoked_at is null`,
          [input.tenantId],
          'run',
        );
        const revoked = { apiKeys: keys.affectedRows, refreshTokens: tokens.affectedRows };
        await audit(em, input, 'offboarding.credentials_revoked', revoked);
        return revoked;
      });
    },

    /**
     * Asks each in-flight run to terminate (it rolls back and ends FAILED), then waits for every one of them to end,
     * so nothing writes to the tenant's data after it is exported. A run is in flight if its row is unfinished or if
     * Temporal visibility lists it running under the tenant's TenantId: a run whose opening write failed has no row.
     * It lists again until visibility shows none running, so a run started just before offboarding is not missed.
     * Heartbeats while it waits; a run already ended is only waited for, so a retry changes nothing.
     */
    async terminateTenantRuns(input: OffboardingStepInput): Promise<{ terminated: number }> {
      const request = { actor: input.actor, reason: `tenant offboarding${input.reason ? `: ${input.reason}` : ''}` };
      const ended = new Set<string>();
      let terminated = 0;
      for (let round = 0; round < VISIBILITY_ROUNDS; round += 1) {
        const listed = await listRunningRunsOfTenant(deps.client, input.tenantId);
        if (listed === null && round === 0) log.warn('this Temporal server cannot list workflows: only runs with a row are ended', { tenantId: input.tenantId });
        const inFlight = new Map([...(await unfinishedRunRows(input.tenantId)), ...(listed ?? [])]);
        const unseen = [...inFlight].filter(([runId]) => !ended.has(runId));
        const noneListed = listed === null || listed.size === 0;
        if (noneListed && unseen.length === 0) return { terminated };
        for (const [runId, workflowId] of unseen) {
          if (await endRun(runId, workflowId, request)) terminated += 1;
          ended.add(runId);
        }
        // Only runs already waited out are still listed: visibility has not caught up with their end yet.
        if (unseen.length === 0) {
          Context.current().heartbeat({ round });
          await Context.current().sleep(Math.min(250 * 2 ** round, 2_000));
        }
      }
      // Retryable: the activity's retries give visibility more time, and offboarding never goes on past a live run.
      throw ApplicationFailure.create({ type: 'RunsStillRunning', message: `visibility still lists runs of tenant ${input.tenantId} as running` });
    },

    /** The tenant's rows and its schema's tables as one JSON document with its SHA-256; written once. */
    async exportTenantArchive(input: OffboardingStepInput): Promise<{ checksum: string; byteSize: number }> {
      return deps.orm.em.fork().transactional(async (em) => {
        const existing = await em.findOne(TenantArchive, { tenantId: input.tenantId });
        if (existing) return { checksum: existing.checksum, byteSize: existing.byteSize };
        const payload = JSON.stringify(await collectTenantData(em, input.tenantId));
        const checksum = createHash('sha256').update(payload).digest('hex');
        const byteSize = Buffer.byteLength(payload);
        await em.execute(
          'insert into tenant_archive (tenant_id, payload, checksum, byte_size, created_at) values (?, ?, ?, ?, now()) on conflict (tenant_id) do nothing',
          [input.tenantId, payload, checksum, byteSize],
          'run',
        );
        await audit(em, input, 'offboarding.archived', { checksum, byteSize, format: ARCHIVE_FORMAT });
        return { checksum, byteSize };
      });
    },

    /**
     * Drops the tenant's schema and deletes its rows, its runs' included, keeping the tenant row (a tombstone that holds
     * the slug, unless the signup was never verified: then the name is released), the archive and the audit trail. Refuses to run before the archive exists: nothing is deleted that was
     * not exported. Deletes only, so a retry after a crash finds less to delete and ends the same.
     */
    async purgeTenantData(input: OffboardingStepInput): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        const archived = await em.count(TenantArchive, { tenantId: input.tenantId });
        if (archived === 0) {
          throw ApplicationFailure.create({ type: 'ArchiveMissing', message: 'the tenant has no archive: export it before purging', nonRetryable: true });
        }
        await dropTenantTables(em, input.tenantId);
        // Runs go too, once the archive holds them: their plans, step errors and undo log carry the tenant's data (a
        // written record's value). The audit trail stays: what happened, who did it and why, keys and amounts but no
        // values. Every run has a row by now (terminateTenantRuns closed even those whose opening write failed).
        for (const table of ['run_audit_finding', 'run_ack', 'run_expectation']) {
          await em.execute(`delete from ${table} where run_id in (select id from run where tenant_id = ?)`, [input.tenantId], 'run');
        }
        for (const table of ['run_incident', 'run_step_undo', 'run', 'policy_rule', 'api_key', 'refresh_token', 'billing_account', 'invitation', 'link_token', 'mail_delivery']) {
          await em.execute(`delete from ${table} where tenant_id = ?`, [input.tenantId], 'run');
        }
        await em.execute('delete from tenant_membership where tenant_id = ?', [input.tenantId], 'run');
        // People who belonged only to this tenant and were created by its signup (or by accepting its invitation) go too;
        // anyone else keeps the account.
        await em.execute(
          `delete from app_user u where u.created_by_tenant_id = ? and not exists (select 1 from tenant_membership m where m.user_id = u.id)`,
          [input.tenantId],
          'run',
        );
        // A reset link of a person deleted above points at nobody.
        await em.execute(`delete from link_token l where l.purpose = 'password_reset' and not exists (select 1 from app_user u where u.id = l.subject_id)`, [], 'run');
        await audit(em, input, 'offboarding.purged', { schema: tenantSchemaName(input.tenantId) });
        // A signup never verified gives its name back, or names could be squatted in bulk (issue 21 item 8).
        const released = await releaseUnverifiedTenantName(em, input.tenantId);
        if (released !== null) await audit(em, input, 'offboarding.name_released', { slug: released });
      });
    },
  };
}

export type OffboardingActivities = ReturnType<typeof createOffboardingActivities>;

async function waitForEnd(result: Promise<unknown>, beat: () => void): Promise<void> {
  const ticker = setInterval(beat, 5_000);
  try {
    await result;
  } catch (error) {
    // A terminated run ends FAILED: that is the expected end, as is a run that is already gone.
    if (!(error instanceof WorkflowFailedError) && !(error instanceof WorkflowNotFoundError)) throw error;
  } finally {
    clearInterval(ticker);
  }
}

async function collectTenantData(em: EntityManager, tenantId: string): Promise<Record<string, unknown>> {
  const rows = (sql: string) => em.execute(sql, [tenantId]);
  const schema = tenantSchemaName(tenantId);
  const hasSchema = await tenantSchemaExists(em, tenantId);
  return {
    format: ARCHIVE_FORMAT,
    tenantId,
    tenant: (await rows('select id, slug, name, status, onboarding_state, created_at, updated_at from tenant where id = ?'))[0] ?? null,
    members: await rows(
      `select u.id as user_id, u.email, m.role, m.created_at from tenant_membership m join app_user u on u.id = m.user_id
         where m.tenant_id = ? order by m.created_at, u.id`,
    ),
    billing: (await rows('select plan, subscription_state, trial_ends_at, created_at, updated_at from billing_account where tenant_id = ?'))[0] ?? null,
    // Key metadata only: the hashes stay behind and are deleted.
    apiKeys: await rows('select id, name, role, prefix, created_by, created_at, revoked_at, revoked_by from api_key where tenant_id = ? order by created_at, id'),
    policyRules: await rows('select rule, params, active, created_at from policy_rule where tenant_id = ? order by id'),
    runs: await rows('select id, phase, plan, step_states, outcome, cause, override, degraded, submitted_by, created_at, finished_at from run where tenant_id = ? order by created_at, id'),
    records: hasSchema ? await em.execute(`select key, value, updated_at from "${schema}"."record" order by key`) : [],
    creditLedger: hasSchema ? await em.execute(`select entry_key, amount, reason, created_at from "${schema}"."credit_ledger" order by id`) : [],
  };
}
