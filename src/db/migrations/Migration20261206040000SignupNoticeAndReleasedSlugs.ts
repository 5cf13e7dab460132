import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 21 items 6 and 8. The mail ledger knows the notice sent to an address's owner when a stranger signs up with
 * it. A purged, never-verified signup's tombstone gives its name back: `slug` may be null, and `released_slug` keeps
 * what the name was for the record (not unique, so the name can be taken again).
 */
export class Migration20261206040000SignupNoticeAndReleasedSlugs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "mail_delivery" drop constraint if exists "mail_delivery_kind_check";`);
    this.addSql(
      `alter table "mail_delivery" add constraint "mail_delivery_kind_check" check ("kind" in ('email_verification', 'verification_reminder', 'password_reset', 'invitation', 'invitation_reminder', 'signup_attempt'));`,
    );
    this.addSql(`alter table "tenant" alter column "slug" drop not null;`);
    this.addSql(`alter table "tenant" add column "released_slug" varchar(63) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`update "tenant" set "slug" = "released_slug" where "slug" is null;`);
    this.addSql(`alter table "tenant" drop column "released_slug";`);
    this.addSql(`alter table "tenant" alter column "slug" set not null;`);
    this.addSql(`delete from "mail_delivery" where "kind" = 'signup_attempt';`);
    this.addSql(`alter table "mail_delivery" drop constraint if exists "mail_delivery_kind_check";`);
    this.addSql(
      `alter table "mail_delivery" add constraint "mail_delivery_kind_check" check ("kind" in ('email_verification', 'verification_reminder', 'password_reset', 'invitation', 'invitation_reminder'));`,
    );
  }
}
