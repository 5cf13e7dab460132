import { Migration } from '@mikro-orm/migrations';

/** Tenants, users, memberships, billing accounts and the append-only audit trail. */
export class Migration20261123000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_event" ("id" bigserial primary key, "actor" varchar(200) not null, "action" varchar(100) not null, "entity_type" varchar(50) not null, "entity_id" varchar(200) not null, "tenant_id" uuid null, "from_state" varchar(50) null, "to_state" varchar(50) null, "reason" text null, "correlation_id" varchar(200) null, "idempotency_key" varchar(300) not null, "details" jsonb null, "at" timestamptz not null);`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "audit_event_tenant_at_index" on "audit_event" ("tenant_id", "at");`);
    this.addSql(`create index "audit_event_entity_index" on "audit_event" ("entity_type", "entity_id");`);
    this.addSql(`create index "audit_event_correlation_index" on "audit_event" ("correlation_id");`);
    this.addSql(`create table "tenant" ("id" uuid not null, "slug" varchar(63) not null, "name" varchar(200) not null, "status" text check ("status" in ('provisioning', 'active', 'suspended', 'pending_deletion', 'terminated')) not null, "onboarding_state" text check ("onboarding_state" in ('provisioned', 'first_api_key', 'first_run', 'complete')) null, "onboarding_updated_at" timestamptz null, "provisioning_workflow_id" varchar(200) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "tenant_pkey" primary key ("id"));`);
    this.addSql(`alter table "tenant" add constraint "tenant_slug_unique" unique ("slug");`);
    this.addSql(`create index "tenant_status_index" on "tenant" ("status");`);
    this.addSql(`create table "billing_account" ("tenant_id" uuid not null, "plan" text check ("plan" in ('trial', 'starter', 'pro', 'enterprise')) not null, "subscription_state" text check ("subscription_state" in ('trial', 'active', 'grace', 'expired', 'suspended')) not null, "trial_ends_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "billing_account_pkey" primary key ("tenant_id"));`);
    this.addSql(`create table "app_user" ("id" uuid not null, "email" varchar(320) not null, "password_hash" text not null, "created_by_tenant_id" uuid null, "created_at" timestamptz not null, constraint "app_user_pkey" primary key ("id"));`);
    this.addSql(`alter table "app_user" add constraint "app_user_email_unique" unique ("email");`);
    this.addSql(`create table "tenant_membership" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "role" text check ("role" in ('owner', 'admin', 'member', 'viewer')) not null, "created_at" timestamptz not null, constraint "tenant_membership_pkey" primary key ("id"));`);
    this.addSql(`create index "tenant_membership_user_index" on "tenant_membership" ("user_id");`);
    this.addSql(`alter table "tenant_membership" add constraint "tenant_membership_tenant_user_unique" unique ("tenant_id", "user_id");`);
    this.addSql(`alter table "billing_account" add constraint "billing_account_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tenant_membership" add constraint "tenant_membership_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "tenant_membership" add constraint "tenant_membership_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
  }
}
