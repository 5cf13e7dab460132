import { Migration } from '@mikro-orm/migrations';

/** `user:<uuid>`, the actor string the API records for a signed-in person (and as an API key's creator). */
const USER_ACTOR = `'^user:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;
const API_KEY_ACTOR = `'^api_key:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'`;

/**
 * Four eyes on approval: a run records the person behind its submission (and the key, when a key submitted it), so
 * approve and reject can refuse that person whatever credential they come back with. Runs already stored get theirs
 * from `submitted_by` (a key's person from the key's creator), so a run waiting at deploy is guarded too. A tenant may
 * let API keys decide runs: the `allow_api_key_approval` policy rule.
 */
export class Migration20261206020000FourEyes extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "run" add column "submitted_by_user_id" uuid null, add column "submitted_by_key_id" uuid null;`);
    this.addSql(`update "run" set "submitted_by_user_id" = substr("submitted_by", 6)::uuid where "submitted_by" ~ ${USER_ACTOR};`);
    this.addSql(
      `update "run" r set "submitted_by_key_id" = k."id", "submitted_by_user_id" = case when k."created_by" ~ ${USER_ACTOR} then substr(k."created_by", 6)::uuid end
         from "api_key" k where r."submitted_by" ~ ${API_KEY_ACTOR} and k."id" = substr(r."submitted_by", 9)::uuid;`,
    );

    this.addSql(`alter table "policy_rule" drop constraint if exists "policy_rule_rule_check";`);
    this.addSql(`alter table "policy_rule" add constraint "policy_rule_rule_check" check("rule" in ('max_debit_total', 'forbidden_step_kinds', 'max_steps', 'require_approval_over_debit', 'allow_api_key_approval'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "policy_rule" where "rule" = 'allow_api_key_approval';`);
    this.addSql(`alter table "policy_rule" drop constraint if exists "policy_rule_rule_check";`);
    this.addSql(`alter table "policy_rule" add constraint "policy_rule_rule_check" check("rule" in ('max_debit_total', 'forbidden_step_kinds', 'max_steps', 'require_approval_over_debit'));`);
    this.addSql(`alter table "run" drop column "submitted_by_user_id", drop column "submitted_by_key_id";`);
  }
}
