import { Migration } from '@mikro-orm/migrations';
import { SYSTEM_TENANT_ID, SYSTEM_TENANT_SLUG } from '../../domain/lifecycle';

/**
 * Tenant lifecycle: the archive offboarding writes before it drops a tenant's data, refresh tokens revoked by
 * offboarding, and the platform's own system tenant, which the lifecycle guard protects.
 */
export class Migration20261123060000Lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "tenant_archive" ("tenant_id" uuid not null, "payload" text not null, "checksum" varchar(64) not null, "byte_size" int not null, "created_at" timestamptz not null, constraint "tenant_archive_pkey" primary key ("tenant_id"));`);
    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check ("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded'));`);
    this.addSql(
      `insert into "tenant" ("id", "slug", "name", "status", "onboarding_state", "provisioning_workflow_id", "created_at", "updated_at")
       values ('${SYSTEM_TENANT_ID}', '${SYSTEM_TENANT_SLUG}', 'Platform', 'active', 'complete', 'migration', now(), now())
       on conflict do nothing;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "tenant" where "id" = '${SYSTEM_TENANT_ID}';`);
    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check ("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone'));`);
    this.addSql(`drop table if exists "tenant_archive" cascade;`);
  }
}
