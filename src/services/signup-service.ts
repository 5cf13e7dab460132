import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import type { EmailVerificationSettings } from '../contracts/accounts';
import type { ProvisioningProgress, ProvisionTenantInput } from '../contracts/provisioning';
import { provisioningProgressQuery } from '../contracts/provisioning';
import { hashPassword } from '../auth/password-hash';
import { nameStanding } from '../db/signup-names';
import type { Orm } from '../db/orm';
import { DAY_MS } from '../domain/duration';
import { DEFAULT_UNVERIFIED_SIGNUP_DAYS } from '../domain/email-verification';
import { DEFAULT_RETENTION_DAYS } from '../domain/lifecycle';
import { TENANT_ID } from '../temporal/search-attributes';
import { provisioningWorkflowId } from '../temporal/workflow-ids';

/** A signup the API has already validated: email lower-cased, password within policy, slug derived from orgName. */
export interface SignupCommand {
  email: string;
  password: string;
  orgName: string;
  slug: string;
}

export type SignupOutcome =
  | { kind: 'accepted' | 'duplicate'; tenantId: string; slug: string; workflowId: string; status: 'provisioning' | 'active' | 'failed' }
  | { kind: 'conflict'; slug: string };

interface SignupMemo { tenantId: string; signupFingerprint: string }

/** Identifies "the same signup": the same email asking for the same slug. */
export const signupFingerprint = (email: string, slug: string) =>
  createHash('sha256').update(`${email.toLowerCase()}\n${slug}`).digest('hex');

const STATUS_BY_WORKFLOW_STATUS: Record<string, 'provisioning' | 'active' | 'failed'> = {
  RUNNING: 'provisioning',
  COMPLETED: 'active',
};

/**
 * Starts the provisioning saga under an id derived from the slug. The same signup again lands on the same workflow
 * (a running one is reused, a completed one is reported); a failed and rolled-back one may start afresh, and so may
 * anyone once a closed saga's name is released (see nameReleased).
 */
export function createSignupService(deps: {
  client: Client;
  taskQueue: string;
  retentionDays?: number;
  verification?: EmailVerificationSettings;
  /** Tells whether a tenant still holds a name; without it, a closed saga's name is never taken again. */
  orm?: Orm;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const unverifiedDays = deps.verification?.abandonAfterDays ?? DEFAULT_UNVERIFIED_SIGNUP_DAYS;

  /**
   * A closed saga of someone else no longer holds its name when no tenant holds the slug and either a never-verified
   * signup's tombstone released it (offboarded after the unverified period), or the saga made no tenant (a decoy)
   * and closed at least the unverified period ago. So a real signup and a decoy give their names back alike, after
   * about the same time, and neither can be squatted for good (issue 21 item 8).
   */
  const nameReleased = async (description: WorkflowExecutionDescription, slug: string): Promise<boolean> => {
    const holder = (description.memo as SignupMemo | undefined)?.tenantId;
    if (!deps.orm || !holder || description.status.name === 'RUNNING' || !description.closeTime) return false;
    // Only the tombstone of the saga that holds the id counts: a decoy that took a released name waits its period.
    const standing = await nameStanding(deps.orm.em.fork(), { slug, tenantId: holder });
    if (standing.held) return false;
    return standing.released || description.closeTime.getTime() + unverifiedDays * DAY_MS <= now().getTime();
  };

  return {
    async signup(command: SignupCommand): Promise<SignupOutcome> {
      const workflowId = provisioningWorkflowId(command.slug);
      const fingerprint = signupFingerprint(command.email, command.slug);
      const input: ProvisionTenantInput = {
        tenantId: randomUUID(),
        slug: command.slug,
        orgName: command.orgName,
        ownerEmail: command.email,
        passwordHash: await hashPassword(command.password),
        signupFingerprint: fingerprint,
        defaultRetentionDays: deps.retentionDays ?? DEFAULT_RETENTION_DAYS,
        ...(deps.verification ? { verification: deps.verification } : {}),
      };
      const start = async (workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY' | 'ALLOW_DUPLICATE'): Promise<WorkflowExecutionDescription> => {
        let handle: WorkflowHandle;
        try {
          handle = await deps.client.workflow.start('provisionTenant', {
            taskQueue: deps.taskQueue,
            workflowId,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy,
            memo: { tenantId: input.tenantId, signupFingerprint: fingerprint } satisfies SignupMemo,
            typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
            staticSummary: `Provision tenant ${command.slug}`,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          handle = deps.client.workflow.getHandle(workflowId);
        }
        // The memo of whichever run holds the id says who asked for it first, without needing a worker.
        return handle.describe();
      };
      let description = await start('ALLOW_DUPLICATE_FAILED_ONLY');
      const askedBy = (held: WorkflowExecutionDescription) => (held.memo as SignupMemo | undefined)?.signupFingerprint;
      if (askedBy(description) !== fingerprint && (await nameReleased(description, command.slug))) description = await start('ALLOW_DUPLICATE');
      const memo = description.memo as SignupMemo | undefined;
      if (!memo || memo.signupFingerprint !== fingerprint) return { kind: 'conflict', slug: command.slug };
      return {
        kind: memo.tenantId === input.tenantId ? 'accepted' : 'duplicate',
        tenantId: memo.tenantId,
        slug: command.slug,
        workflowId,
        status: STATUS_BY_WORKFLOW_STATUS[description.status.name] ?? 'failed',
      };
    },

    /** The saga's own view of its steps, read through a workflow query. */
    async progress(workflowId: string): Promise<ProvisioningProgress> {
      return deps.client.workflow.getHandle(workflowId).query(provisioningProgressQuery);
    },
  };
}

export type SignupService = ReturnType<typeof createSignupService>;
