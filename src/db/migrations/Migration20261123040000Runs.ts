import { Migration } from '@mikro-orm/migrations';

/**
 * The run kernel: runs, their declared expectations and acknowledgements, incidents, the undo log of record steps,
 * tenant policy rules and reconciler findings. Run tables carry no foreign keys on purpose: like the audit trail,
 * a run's record must outlive an offboarded tenant so an operator can still read what it did.
 */
export class Migration20261123040000Runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "run" ("id" uuid not null, "tenant_id" uuid not null, "workflow_id" varchar(200) not null, "phase" text check ("phase" in ('CREATED', 'AUTHORIZED', 'EXECUTING', 'GOVERNANCE_CHECK', 'FINALIZING', 'COMPLETED', 'FAILED')) not null, "plan" jsonb not null, "step_states" jsonb not null default '[]', "outcome" text check ("outcome" in ('completed', 'failed')) null, "cause" jsonb null, "override" jsonb null, "degraded" boolean not null default false, "submitted_by" varchar(200) not null, "finalize_deadline" timestamptz null, "audit_settled_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "finished_at" timestamptz null, constraint "run_pkey" primary key ("id"));`);
    this.addSql(`create index "run_tenant_created_index" on "run" ("tenant_id", "created_at");`);
    this.addSql(`create index "run_audit_unsettled_index" on "run" ("created_at") where "audit_settled_at" is null;`);

    this.addSql(`create table "run_expectation" ("id" bigserial primary key, "run_id" uuid not null, "key" varchar(100) not null, "kind" text check ("kind" in ('step', 'governance', 'finalize', 'compensation')) not null, "waived_reason" text null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "run_expectation" add constraint "run_expectation_run_key_unique" unique ("run_id", "key");`);

    this.addSql(`create table "run_ack" ("id" bigserial primary key, "run_id" uuid not null, "key" varchar(100) not null, "acked_at" timestamptz not null default now());`);
    this.addSql(`alter table "run_ack" add constraint "run_ack_run_key_unique" unique ("run_id", "key");`);
    this.addSql(`create index "run_ack_acked_at_index" on "run_ack" ("acked_at");`);

    this.addSql(`create table "run_incident" ("id" bigserial primary key, "run_id" uuid not null, "tenant_id" uuid not null, "failure_type" varchar(50) not null, "cause" jsonb not null, "created_at" timestamptz not null default now());`);
    this.addSql(`alter table "run_incident" add constraint "run_incident_run_unique" unique ("run_id");`);
    this.addSql(`create index "run_incident_tenant_index" on "run_incident" ("tenant_id", "created_at");`);

    this.addSql(`create table "run_step_undo" ("run_id" uuid not null, "step_index" int not null, "tenant_id" uuid not null, "record_key" varchar(200) not null, "existed" boolean not null, "previous_value" jsonb null, "restored_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "run_step_undo_pkey" primary key ("run_id", "step_index"));`);
    this.addSql(`create index "run_step_undo_held_index" on "run_step_undo" ("tenant_id", "record_key") where "restored_at" is null;`);

    this.addSql(`create table "policy_rule" ("id" bigserial primary key, "tenant_id" uuid not null, "rule" text check ("rule" in ('max_debit_total', 'forbidden_step_kinds', 'max_steps', 'require_approval_over_debit')) not null, "params" jsonb not null, "active" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now());`);
    this.addSql(`alter table "policy_rule" add constraint "policy_rule_tenant_rule_unique" unique ("tenant_id", "rule");`);
    this.addSql(`alter table "policy_rule" add constraint "policy_rule_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "run_audit_finding" ("id" bigserial primary key, "run_id" uuid not null, "kind" text check ("kind" in ('missing', 'drift', 'stale')) not null, "key" varchar(100) not null, "detected_at" timestamptz not null default now(), "resolved_at" timestamptz null);`);
    this.addSql(`alter table "run_audit_finding" add constraint "run_audit_finding_run_kind_key_unique" unique ("run_id", "kind", "key");`);
    this.addSql(`create index "run_audit_finding_open_index" on "run_audit_finding" ("kind") where "resolved_at" is null;`);
  }
}
