import { randomUUID } from 'node:crypto';
import { mintApiKey } from '../auth/api-key-format';
import { recordAudit } from '../db/audit';
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
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export type CreateApiKeyOutcome =
  | { kind: 'created'; apiKey: ApiKeySummary & { key: string } }
  | { kind: 'refused'; decision: GateDecision }
  | { kind: 'limit_reached' }
  | { kind: 'tenant_missing' };

export type RevokeApiKeyOutcome = 'revoked' | 'already_revoked' | 'not_found';

interface ApiKeyRow {
  id: string;
  name: string;
  role: MembershipRole;
  prefix: string;
  created_by: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const iso = (value: Date | string) => new Date(value).toISOString();
const summary = (row: ApiKeyRow): ApiKeySummary => ({
  id: row.id,
  name: row.name,
  role: row.role,
  prefix: row.prefix,
  createdBy: row.created_by,
  createdAt: iso(row.created_at),
  revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
});

export function createApiKeyService(deps: { orm: Orm; gates: GateRecorder; now?: () => Date; unverified?: UnverifiedLimits }) {
  const now = deps.now ?? (() => new Date());

  return {
    async create(input: { tenantId: string; name: string; role: MembershipRole; actor: string }): Promise<CreateApiKeyOutcome> {
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
        await em.execute(
          `insert into api_key (id, tenant_id, name, role, prefix, key_hash, created_by, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, input.tenantId, input.name, input.role, minted.prefix, minted.hash, input.actor, createdAt],
        );
        await recordAudit(em, {
          actor: input.actor,
          action: 'api_key.created',
          entityType: 'api_key',
          entityId: id,
          tenantId: input.tenantId,
          // Never the key or its hash: the audit trail is read by more people than the key's owner.
          details: { prefix: minted.prefix, role: input.role, name: input.name },
          idempotencyKey: `api_key:${id}:created`,
        });
        await advanceOnboarding(em, { tenantId: input.tenantId, milestone: 'api_key_created', actor: input.actor });
        return {
          kind: 'created',
          apiKey: { ...summary({ id, name: input.name, role: input.role, prefix: minted.prefix, created_by: input.actor, created_at: createdAt, revoked_at: null }), key: minted.key },
        };
      });
    },

    async list(tenantId: string): Promise<ApiKeySummary[]> {
      const rows = await deps.orm.em.fork().execute<ApiKeyRow[]>(
        'select id, name, role, prefix, created_by, created_at, revoked_at from api_key where tenant_id = ? order by created_at desc, id',
        [tenantId],
      );
      return rows.map(summary);
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
