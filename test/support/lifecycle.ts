import type { Orm } from '../../src/db/orm';
import { tenantSchemaExists } from '../../src/db/tenant-schema';

export { operator, startLifecycle } from '../../tools/fixtures/lifecycle';

/** What offboarding leaves or removes, read straight from Postgres. */
export async function tenantRemains(orm: Orm, tenantId: string) {
  const em = orm.em.fork();
  const one = async (sql: string) => (await em.execute(sql, [tenantId]))[0];
  const count = async (sql: string) => Number((await one(sql))?.n ?? 0);
  const archive = await one('select checksum, payload, encode(sha256(convert_to(payload, \'UTF8\')), \'hex\') as digest from tenant_archive where tenant_id = ?');
  return {
    status: (await one('select status from tenant where id = ?'))?.status as string | undefined,
    schema: await tenantSchemaExists(em, tenantId),
    memberships: await count('select count(*) as n from tenant_membership where tenant_id = ?'),
    billing: await count('select count(*) as n from billing_account where tenant_id = ?'),
    liveApiKeys: await count('select count(*) as n from api_key where tenant_id = ? and revoked_at is null'),
    archive: archive ? { checksumMatches: archive.checksum === archive.digest, payload: JSON.parse(archive.payload) as Record<string, unknown> } : null,
  };
}

export async function lifecycleAudit(orm: Orm, tenantId: string) {
  return orm.em
    .fork()
    .execute<Array<{ action: string; actor: string; from_state: string | null; to_state: string | null; reason: string | null; correlation_id: string | null }>>(
      `select action, actor, from_state, to_state, reason, correlation_id from audit_event
         where tenant_id = ? and (action like 'lifecycle.%' or action like 'offboarding.%' or action like 'onboarding.force%') order by id`,
      [tenantId],
    );
}
