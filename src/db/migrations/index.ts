import { Migration20261123000000Initial } from './Migration20261123000000Initial';
import { Migration20261123030000Auth } from './Migration20261123030000Auth';
import { Migration20261123040000Runs } from './Migration20261123040000Runs';
import { Migration20261123050000DomainEvents } from './Migration20261123050000DomainEvents';
import { Migration20261123060000Lifecycle } from './Migration20261123060000Lifecycle';
import { Migration20261201120000WorkerHeartbeat } from './Migration20261201120000WorkerHeartbeat';
import { Migration20261201180000RateLimitCounters } from './Migration20261201180000RateLimitCounters';
import { Migration20261201190511PolicyVersions } from './Migration20261201190511PolicyVersions';
import { Migration20261202090000RunAuditSweep } from './Migration20261202090000RunAuditSweep';
import { Migration20261202100000Accounts } from './Migration20261202100000Accounts';
import { Migration20261206020000FourEyes } from './Migration20261206020000FourEyes';
import { Migration20261206030000RequestBudgets } from './Migration20261206030000RequestBudgets';
import { Migration20261206050000MailRationAndCredentialThrottle } from './Migration20261206050000MailRationAndCredentialThrottle';
import { Migration20261206010000Credentials } from './Migration20261206010000Credentials';
import { Migration20261206040000SignupNoticeAndReleasedSlugs } from './Migration20261206040000SignupNoticeAndReleasedSlugs';

/** Every committed migration, oldest first. A new migration is added here as well as in its own file. */
export const MIGRATIONS = [
  { name: 'Migration20261123000000Initial', class: Migration20261123000000Initial },
  { name: 'Migration20261123030000Auth', class: Migration20261123030000Auth },
  { name: 'Migration20261123040000Runs', class: Migration20261123040000Runs },
  { name: 'Migration20261123050000DomainEvents', class: Migration20261123050000DomainEvents },
  { name: 'Migration20261123060000Lifecycle', class: Migration20261123060000Lifecycle },
  { name: 'Migration20261201120000WorkerHeartbeat', class: Migration20261201120000WorkerHeartbeat },
  { name: 'Migration20261201180000RateLimitCounters', class: Migration20261201180000RateLimitCounters },
  { name: 'Migration20261201190511PolicyVersions', class: Migration20261201190511PolicyVersions },
  { name: 'Migration20261202090000RunAuditSweep', class: Migration20261202090000RunAuditSweep },
  { name: 'Migration20261202100000Accounts', class: Migration20261202100000Accounts },
  { name: 'Migration20261206010000Credentials', class: Migration20261206010000Credentials },
  { name: 'Migration20261206020000FourEyes', class: Migration20261206020000FourEyes },
  { name: 'Migration20261206030000RequestBudgets', class: Migration20261206030000RequestBudgets },
  { name: 'Migration20261206040000SignupNoticeAndReleasedSlugs', class: Migration20261206040000SignupNoticeAndReleasedSlugs },
  { name: 'Migration20261206050000MailRationAndCredentialThrottle', class: Migration20261206050000MailRationAndCredentialThrottle },
];
