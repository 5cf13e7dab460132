import { EntitySchema } from '@mikro-orm/core';

/** Written in the same transaction as the effect it acknowledges, so an ack never exists without its effect. */
export class RunAck {
  id!: string;
  runId!: string;
  key!: string;
  ackedAt: Date = new Date();
}

export const RunAckSchema = new EntitySchema<RunAck>({
  class: RunAck,
  tableName: 'run_ack',
  uniques: [{ name: 'run_ack_run_key_unique', properties: ['runId', 'key'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    runId: { type: 'uuid' },
    key: { type: 'string', length: 100 },
    ackedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', index: 'run_ack_acked_at_index' },
  },
});
