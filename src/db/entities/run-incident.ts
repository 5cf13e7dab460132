import { EntitySchema } from '@mikro-orm/core';
import type { RunCause } from '../../contracts/run';

/** One per failed run, so no failure is silent: the on-call list reads this table. */
export class RunIncident {
  id!: string;
  runId!: string;
  tenantId!: string;
  failureType!: string;
  cause!: RunCause;
  createdAt: Date = new Date();
}

export const RunIncidentSchema = new EntitySchema<RunIncident>({
  class: RunIncident,
  tableName: 'run_incident',
  indexes: [{ name: 'run_incident_tenant_index', properties: ['tenantId', 'createdAt'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    runId: { type: 'uuid', unique: 'run_incident_run_unique' },
    tenantId: { type: 'uuid' },
    failureType: { type: 'string', length: 50 },
    cause: { type: 'json' },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
  },
});
