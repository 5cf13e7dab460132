import { Migration } from '@mikro-orm/migrations';

/**
 * Credentials that die with their owner's standing (issue 21): a session generation per membership, which every
 * access token carries and every request compares, so ending a person's sessions is one update; API keys that know
 * the user who made them, may expire, and remember (roughly) when they were last used; refresh tokens revoked for the
 * new reasons that end sessions.
 */
export class Migration20261206010000Credentials extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tenant_membership" add column "session_generation" int not null default 0;`);

    this.addSql(`alter table "api_key" add column "created_by_user_id" uuid null, add column "expires_at" timestamptz null, add column "last_used_at" timestamptz null;`);
    this.addSql(`create index "api_key_creator_index" on "api_key" ("tenant_id", "created_by_user_id");`);
    // Keys made before this release name their creator only in the actor text: they die with that person's standing too.
    this.addSql(`update "api_key" set "created_by_user_id" = substr("created_by", 6)::uuid where "created_by" ~ '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';`);

    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded', 'password_reset', 'logout_everywhere', 'role_changed', 'tenant_suspended', 'tenant_deleted'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);
    this.addSql(`update "refresh_token" set "revoked_reason" = 'logout' where "revoked_reason" in ('logout_everywhere', 'role_changed', 'tenant_suspended', 'tenant_deleted');`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded', 'password_reset'));`);

    this.addSql(`drop index "api_key_creator_index";`);
    this.addSql(`alter table "api_key" drop column "created_by_user_id", drop column "expires_at", drop column "last_used_at";`);

    this.addSql(`alter table "tenant_membership" drop column "session_generation";`);
  }
}
