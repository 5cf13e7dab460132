import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { passwordResetCompletedSignal, passwordResetRequestedSignal } from '../../contracts/accounts';
import { hashPassword } from '../../auth/password-hash';
import { secretHash } from '../../auth/secret-hash';
import { recordAudit } from '../../db/audit';
import { consumeLinkToken, findLiveLinkToken } from '../../db/link-tokens';
import type { Orm } from '../../db/orm';
import { endUserSessions } from '../../db/sessions';
import { isLinkTokenShaped } from '../../domain/link-token';
import { passwordProblems } from '../../domain/password-policy';
import { passwordResetWorkflowId } from '../../temporal/workflow-ids';

export type CompleteResetOutcome = { kind: 'reset'; userId: string; sessionsRevoked: number } | { kind: 'invalid' } | { kind: 'weak'; problems: string[] };

/** The reset workflow of an address: keyed by its hash, so the id does not spell the address. */
export const passwordResetWorkflowIdFor = (email: string) => passwordResetWorkflowId(createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32));

/**
 * Password reset without an account oracle: a request does the same thing whatever the address (it signals the
 * address's reset workflow, started if need be), and only the workflow's activity looks the account up. Completing
 * spends the link, sets the password under the policy and ends every session of the person, in one transaction.
 */
export function createPasswordResetService(deps: { client: Client; orm: Orm; taskQueue: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  return {
    async request(email: string): Promise<void> {
      const address = email.trim().toLowerCase();
      await deps.client.workflow.signalWithStart('passwordReset', {
        taskQueue: deps.taskQueue,
        workflowId: passwordResetWorkflowIdFor(address),
        args: [{ email: address }],
        signal: passwordResetRequestedSignal,
        signalArgs: [],
        staticSummary: 'Password reset',
      });
    },

    async complete(input: { token: string; password: string }): Promise<CompleteResetOutcome> {
      if (!isLinkTokenShaped(input.token)) return { kind: 'invalid' };
      const tokenHash = secretHash(input.token);
      // Read first, without spending: a password the policy refuses leaves the link usable for a better one.
      const em = deps.orm.em.fork();
      const [user] = await em.execute<Array<{ id: string; email: string }>>(
        `select u.id, u.email from link_token l join app_user u on u.id = l.subject_id where l.purpose = 'password_reset' and l.token_hash = ? and l.used_at is null and l.expires_at > ?`,
        [tokenHash, now()],
      );
      if (!user) return { kind: 'invalid' };
      const problems = passwordProblems(input.password, user.email);
      if (problems.length > 0) return { kind: 'weak', problems };
      const passwordHash = await hashPassword(input.password);

      const outcome = await deps.orm.em.fork().transactional(async (tx): Promise<CompleteResetOutcome> => {
        const holder = await findLiveLinkToken(tx, 'password_reset', tokenHash, now());
        if (!holder || holder.subjectId !== user.id) return { kind: 'invalid' };
        const at = now();
        await consumeLinkToken(tx, 'password_reset', user.id, at);
        await tx.execute('update app_user set password_hash = ?, email_verified_at = coalesce(email_verified_at, ?) where id = ?', [passwordHash, at, user.id], 'run');
        // Every tenant's: the access tokens issued before die at their next request, the refresh tokens now.
        const ended = await endUserSessions(tx, { userId: user.id, reason: 'password_reset', at });
        const memberships = await tx.execute<Array<{ tenant_id: string }>>('select tenant_id from tenant_membership where user_id = ?', [user.id]);
        // In the trail of every tenant the person belongs to (each tenant's admins see it happened), or of none.
        const tenantIds: Array<string | null> = memberships.length > 0 ? memberships.map((row) => row.tenant_id) : [null];
        for (const tenantId of tenantIds) {
          await recordAudit(tx, {
            actor: `user:${user.id}`,
            action: 'auth.password_reset',
            entityType: 'user',
            entityId: user.id,
            tenantId,
            reason: 'the password was reset through an emailed link; every session was ended',
            idempotencyKey: `user:${user.id}:password_reset:${holder.issueKey}:${tenantId ?? 'none'}`,
            details: { sessionsRevoked: ended.refreshTokens },
          });
        }
        return { kind: 'reset', userId: user.id, sessionsRevoked: ended.refreshTokens };
      });
      if (outcome.kind === 'reset') {
        // Only lets the workflow end early: without the signal it withdraws the spent link's row within 30 minutes.
        await deps.client.workflow
          .getHandle(passwordResetWorkflowIdFor(user.email))
          .signal(passwordResetCompletedSignal)
          .catch(() => undefined);
      }
      return outcome;
    },
  };
}

export type PasswordResetService = ReturnType<typeof createPasswordResetService>;
