import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { EmailVerificationSettings } from '../contracts/accounts';
import type { ProvisioningProgress, ProvisionTenantInput } from '../contracts/provisioning';
import { provisioningProgressQuery } from '../contracts/provisioning';
import { hashPassword } from '../auth/password-hash';
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
 * (a running one is reused, a completed one is reported); a failed and rolled-back one may start afresh.
 */
export function createSignupService(deps: { client: Client; taskQueue: string; retentionDays?: number; verification?: EmailVerificationSettings }) {
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
      let handle: WorkflowHandle;
      try {
        handle = await deps.client.workflow.start('provisionTenant', {
          taskQueue: deps.taskQueue,
          workflowId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          memo: { tenantId: input.tenantId, signupFingerprint: fingerprint } satisfies SignupMemo,
          typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
          staticSummary: `Provision tenant ${command.slug}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        handle = deps.client.workflow.getHandle(workflowId);
      }
      // The memo of whichever run holds the id says who asked for it first, without needing a worker.
      const description = await handle.describe();
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
