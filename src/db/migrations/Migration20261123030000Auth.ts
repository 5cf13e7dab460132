import { Migration } from '@mikro-orm/migrations';

/** Tenant API keys and login refresh tokens: secrets are stored only as SHA-256 hashes. */
export class Migration20261123030000Auth extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "api_key" ("id" uuid not null, "tenant_id" uuid not null, "name" varchar(100) not null, "role" text check ("role" in ('owner', 'admin', 'member', 'viewer')) not null, "prefix" varchar(20) not null, "key_hash" varchar(64) not null, "created_by" varchar(200) not null, "created_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_by" varchar(200) null, constraint "api_key_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_key" add constraint "api_key_prefix_unique" unique ("prefix");`);
    this.addSql(`alter table "api_key" add constraint "api_key_key_hash_unique" unique ("key_hash");`);
    this.addSql(`create index "api_key_tenant_index" on "api_key" ("tenant_id", "created_at");`);
    this.addSql(`alter table "api_key" add constraint "api_key_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "refresh_token" ("id" uuid not null, "family_id" uuid not null, "user_id" uuid not null, "tenant_id" uuid not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "created_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_reason" text check ("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone')) null, "replaced_by" uuid null, constraint "refresh_token_pkey" primary key ("id"));`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "refresh_token_family_index" on "refresh_token" ("family_id");`);
    this.addSql(`create index "refresh_token_user_index" on "refresh_token" ("user_id");`);
    this.addSql(`create index "refresh_token_tenant_index" on "refresh_token" ("tenant_id");`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "refresh_token" add constraint "refresh_token_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "refresh_token" cascade;`);
    this.addSql(`drop table if exists "api_key" cascade;`);
  }
}
