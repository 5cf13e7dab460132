import { randomUUID } from 'node:crypto';
import { mintApiKey } from '../auth/api-key-format';
import { findApiKey, insertApiKey, listApiKeys, lockApiKey, lockMemberRole, setApiKeyOwner, type ApiKeyRecord } from '../db/api-keys';
import { recordAudit } from '../db/audit';
import { lockTenantSeats } from '../db/seats';
import { outranksOrEquals } from '../domain/permissions';
import { advanceOnboarding } from '../db/onboarding';
import type { Orm } from '../db/orm';
import type { GateDecision } from '../domain/gate-decision';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';
import type { GateRecorder } from '../gates/gate-recorder';
import { lifecycleDecision } from '../gates/lifecycle-gate';
import { unverifiedApiKeyDecision } from '../gates/verification-gate';
import type { EmailVerificationState, UnverifiedLimits } from '../domain/email-verification';

/** A tenant with more live keys than this is leaking them, not using them. */
export const MAX_ACTIVE_API_KEYS = 50;

export interface ApiKeySummary {
  id: string;
  name: string;
  role: MembershipRole;
  prefix: string;
  /** The audit actor that made it (`user:<id>`, `operator:<name>`). */
  createdBy: string;
  /** The member it speaks for (it dies with their standing), with their address; null for keys no member holds. */
  creator: { userId: string; email: string | null } | null;
  createdAt: string;
  expiresAt: string | null;
  /** Coarse: updated at most every few minutes. */
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export type CreateApiKeyOutcome =
  | { kind: 'created'; apiKey: ApiKeySummary & { key: string } }
  | { kind: 'refused'; decision: GateDecision }
  | { kind: 'limit_reached' }
  | { kind: 'tenant_missing' };

export type RevokeApiKeyOutcome = 'revoked' | 'already_revoked' | 'not_found';

export type ReownApiKeyOutcome = { kind: 'reowned'; apiKey: ApiKeySummary } | { kind: 'not_found' } | { kind: 'revoked' } | { kind: 'not_a_member' } | { kind: 'role_too_low'; memberRole: MembershipRole; keyRole: MembershipRole };

const iso = (value: Date | null) => (value === null ? null : value.toISOString());
const summary = (key: ApiKeyRecord): ApiKeySummary => ({
  id: key.id,
  name: key.name,
  role: key.role,
  prefix: key.prefix,
  createdBy: key.createdBy,
  creator: key.createdByUserId === null ? null : { userId: key.createdByUserId, email: key.createdByEmail },
  createdAt: key.createdAt.toISOString(),
  expiresAt: iso(key.expiresAt),
  lastUsedAt: iso(key.lastUsedAt),
  revokedAt: iso(key.revokedAt),
});

export function createApiKeyService(deps: { orm: Orm; gates: GateRecorder; now?: () => Date; unverified?: UnverifiedLimits }) {
  const now = deps.now ?? (() => new Date());

  return {
    /** `createdByUserId`: the member the key speaks for (null only for operators and set-up code). */
    async create(input: { tenantId: string; name: string; role: MembershipRole; actor: string; createdByUserId?: string | null; expiresAt?: Date | null }): Promise<CreateApiKeyOutcome> {
      return deps.orm.em.fork().transactional(async (em): Promise<CreateApiKeyOutcome> => {
        // Locks the tenant row: key creation serialises per tenant (the cap holds) and waits out a lifecycle change.
        const tenants = await em.execute<Array<{ status: TenantStatus; email_verification: EmailVerificationState }>>('select status, email_verification from tenant where id = ? for no key update', [input.tenantId]);
        const tenant = tenants[0];
        if (!tenant) return { kind: 'tenant_missing' };
        const decision = deps.gates.record(lifecycleDecision(tenant.status, 'write'), { boundary: 'api_key.create', tenantId: input.tenantId });
        if (!decision.allowed) return { kind: 'refused', decision };

        const active = await em.execute<Array<{ count: string }>>('select count(*) from api_key where tenant_id = ? and revoked_at is null', [input.tenantId]);
        if (Number(active[0]?.count ?? 0) >= MAX_ACTIVE_API_KEYS) return { kind: 'limit_reached' };
        if (deps.unverified) {
          const verification = deps.gates.record(unverifiedApiKeyDecision(tenant.email_verification, Number(active[0]?.count ?? 0), deps.unverified.apiKeys), { boundary: 'api_key.create', tenantId: input.tenantId });
          if (!verification.allowed) return { kind: 'refused', decision: verification };
        }

        const minted = mintApiKey();
        const id = randomUUID();
        const createdAt = now();
        const record: ApiKeyRecord = {
          id,
          name: input.name,
          role: input.role,
          prefix: minted.prefix,
          createdBy: input.actor,
          createdByUserId: input.createdByUserId ?? null,
          createdByEmail: null,
          createdAt,
          expiresAt: input.expiresAt ?? null,
          lastUsedAt: null,
          revokedAt: null,
        };
        await insertApiKey(em, { ...record, tenantId: input.tenantId, keyHash: minted.hash });
        await recordAudit(em, {
          actor: input.actor,
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: id,
          tenantId: input.tenantId,
          // Never the key or its hash: the audit trail is read by more people than the key's owner.
          details: { prefix: minted.prefix, role: input.role, name: input.name, creatorUserId: record.createdByUserId, expiresAt: iso(record.expiresAt) },
          idempotencyKey: `api_key:${id}:created`,
        });
        await advanceOnboarding(em, { tenantId: input.tenantId, milestone: 'api_key_created', actor: input.actor });
        return { kind: 'created', apiKey: { ...summary(record), key: minted.key } };
      });
    },

    async list(tenantId: string): Promise<ApiKeySummary[]> {
      return (await listApiKeys(deps.orm.em.fork(), tenantId)).map(summary);
    },

    /**
     * Moves a live key to another member, who must hold at least its role: the way a key survives its creator leaving.
     * Under the tenant's seat lock, so it cannot interleave with that member's removal or demotion.
     */
    async reown(input: { tenantId: string; keyId: string; userId: string; actor: string }): Promise<ReownApiKeyOutcome> {
      return deps.orm.em.fork().transactional(async (em): Promise<ReownApiKeyOutcome> => {
        await lockTenantSeats(em, input.tenantId);
        const key = await lockApiKey(em, input);
        if (!key) return { kind: 'not_found' };
        if (key.revokedAt !== null) return { kind: 'revoked' };
        const memberRole = await lockMemberRole(em, { tenantId: input.tenantId, userId: input.userId });
        if (!memberRole) return { kind: 'not_a_member' };
        if (!outranksOrEquals(memberRole, key.role)) return { kind: 'role_too_low', memberRole, keyRole: key.role };
        if (key.createdByUserId !== input.userId) {
          await setApiKeyOwner(em, input);
          await recordAudit(em, {
            actor: input.actor,
            action: 'api_key.reowned',
            entityType: 'api_key',
            entityId: input.keyId,
            tenantId: input.tenantId,
            reason: 'an owner moved the key to another member; it now lives with their standing',
            idempotencyKey: `api_key:${input.keyId}:reowned:${randomUUID()}`,
            details: { fromUserId: key.createdByUserId, toUserId: input.userId, role: key.role },
          });
        }
        return { kind: 'reowned', apiKey: summary((await findApiKey(em, input))!) };
      });
    },

    /** Revoking twice is not an error: the key is revoked either way. A key of another tenant is not found. */
    async revoke(input: { tenantId: string; keyId: string; actor: string }): Promise<RevokeApiKeyOutcome> {
      return deps.orm.em.fork().transactional(async (em): Promise<RevokeApiKeyOutcome> => {
        const revoked = await em.execute<{ affectedRows: number }>(
          'update api_key set revoked_at = ?, revoked_by = ? where id = ? and tenant_id = ? and revoked_at is null',
          [now(), input.actor, input.keyId, input.tenantId],
          'run',
        );
        if (revoked.affectedRows === 0) {
          const existing = await em.execute('select 1 from api_key where id = ? and tenant_id = ?', [input.keyId, input.tenantId]);
          return existing.length > 0 ? 'already_revoked' : 'not_found';
        }
        await recordAudit(em, {
          actor: input.actor,
          action: 'api_key.revoked',
          entityType: 'api_key',
          entityId: input.keyId,
          tenantId: input.tenantId,
          idempotencyKey: `api_key:${input.keyId}:revoked`,
        });
        return 'revoked';
      });
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
