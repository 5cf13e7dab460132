import { Migration } from '@mikro-orm/migrations';

/**
 * Policy rules become an API resource: `version` counts each rule's changes (its ETag, for If-Match) and `updated_by`
 * names who made the last one. Existing rows start at version 1 with no recorded author.
 */
export class Migration20261201190511PolicyVersions extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "policy_rule" add column "version" int not null default 1, add column "updated_by" text null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "policy_rule" drop column "version", drop column "updated_by";`);
  }
}
