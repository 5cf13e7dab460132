import type { EntityManager } from '@mikro-orm/postgresql';
import { auditRow, executeWithAudit, type AuditEntry } from './audit';

/**
 * The names signups hold: who holds a slug, reserving one for a new tenant unless its owner's address already has an
 * account, and giving the name of a purged, never-verified signup back.
 */

export interface NameReservation {
  /** The tenant that holds the slug now (this signup's, after the statement), or null when nobody does. */
  holder: string | null;
  /** The owner's address already has an account: nothing was reserved (see activities/provisioning.ts reserveTenant). */
  ownerRegistered: boolean;
}

/**
 * Reserves the slug for the tenant in one statement with its audit row, unless the owner's address belongs to an
 * account already: then nothing is written and the saga answers as a decoy (issue 21 item 6). The row is ours if this
 * statement inserted it or an earlier attempt did. Without an address (sagas from before the screening) nobody is screened.
 */
export async function reserveTenantName(
  em: EntityManager,
  input: { tenantId: string; slug: string; orgName: string; workflowId: string; ownerEmail: string | null; at: Date },
  audit: AuditEntry,
): Promise<NameReservation> {
  const row = await executeWithAudit<{ holder: string | null; owner_registered: boolean }>(
    em,
    {
      ctes: `registered as (select exists (select 1 from app_user where email = ?) as yes),
             inserted as (
               insert into tenant (id, slug, name, status, provisioning_workflow_id, created_at, updated_at)
                 select ?, ?, ?, 'provisioning', ?, ?, ? where not (select yes from registered)
                 on conflict do nothing returning id),
             holder as (select coalesce((select id from inserted), (select id from tenant where slug = ?)) as id)`,
      params: [input.ownerEmail?.toLowerCase() ?? null, input.tenantId, input.slug, input.orgName, input.workflowId, input.at, input.at, input.slug],
      auditWhen: { sql: `(select id from holder) = ?::uuid`, params: [input.tenantId] },
      select: `(select id from holder) as holder, (select yes from registered) as owner_registered`,
    },
    auditRow(audit),
  );
  return { holder: row?.holder ?? null, ownerRegistered: row?.owner_registered === true };
}

export interface NameStanding {
  /** A tenant holds the slug: a live one, or a tombstone that kept its name. */
  held: boolean;
  /** The given tenant (a saga's) is a purged, never-verified signup's tombstone that gave this name back. */
  released: boolean;
}

export async function nameStanding(em: EntityManager, input: { slug: string; tenantId: string }): Promise<NameStanding> {
  const rows = await em.execute<Array<{ held: boolean; released: boolean }>>(
    'select exists (select 1 from tenant where slug = ?) as held, exists (select 1 from tenant where id = ? and released_slug = ?) as released',
    [input.slug, input.tenantId, input.slug],
  );
  return { held: rows[0]?.held === true, released: rows[0]?.released === true };
}

/**
 * A purged tenant whose owner never verified the signup's email gives its name back: the tombstone keeps its row, its
 * archive and its audit trail, and `released_slug` says what the name was. A verified tenant keeps its name for good.
 * Returns the released name, or null when nothing was released (verified, or released already).
 */
export async function releaseUnverifiedTenantName(em: EntityManager, tenantId: string): Promise<string | null> {
  const rows = await em.execute<Array<{ released_slug: string }>>(
    `update tenant set released_slug = slug, slug = null, updated_at = now()
       where id = ? and slug is not null and email_verification = 'pending'
       returning released_slug`,
    [tenantId],
  );
  return rows[0]?.released_slug ?? null;
}
