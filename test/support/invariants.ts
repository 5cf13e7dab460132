import type { Orm } from '../../src/db/orm';

/**
 * Scans the database and the tenant schemas for anything a rolled-back or half-finished saga could leave behind.
 * Returns one line per orphan; empty means clean. Scoped to the given tenant ids and emails so parallel tests that are
 * legitimately mid-saga do not count.
 */
export async function findOrphans(orm: Orm, scope: { tenantIds: string[]; emails: string[] }): Promise<string[]> {
  const em = orm.em.fork();
  const orphans: string[] = [];
  // Bound arrays expand to lists; a sentinel keeps `in ()` valid when a scope is empty.
  const tenantIds = [...scope.tenantIds, '00000000-0000-0000-0000-000000000000'];
  const emails = [...scope.emails.map((email) => email.toLowerCase()), ''];

  const users = await em.execute(
    `select u.email from app_user u where (u.email in (?) or u.created_by_tenant_id in (?))
       and not exists (select 1 from tenant_membership m where m.user_id = u.id)`,
    [emails, tenantIds],
  );
  for (const row of users) orphans.push(`user without a tenant: ${row.email}`);

  const reserved = await em.execute(`select slug from tenant where id in (?) and status = 'provisioning'`, [tenantIds]);
  for (const row of reserved) orphans.push(`slug still reserved: ${row.slug}`);

  const billing = await em.execute(
    `select b.tenant_id from billing_account b where b.tenant_id in (?)
       and not exists (select 1 from tenant t where t.id = b.tenant_id and t.status <> 'provisioning')`,
    [tenantIds],
  );
  for (const row of billing) orphans.push(`billing account without a live tenant: ${row.tenant_id}`);

  const schemaNames = scope.tenantIds.concat('').map((id) => `tenant_${id.replace(/-/g, '')}`);
  const schemas = await em.execute(
    `select s.schema_name from information_schema.schemata s where s.schema_name in (?)
       and not exists (select 1 from tenant t where 'tenant_' || replace(t.id::text, '-', '') = s.schema_name and t.status <> 'provisioning')`,
    [schemaNames],
  );
  for (const row of schemas) orphans.push(`schema without a live tenant: ${row.schema_name}`);

  return orphans;
}
