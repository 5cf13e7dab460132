import { EntitySchema } from '@mikro-orm/core';
import { EXPECTATION_KINDS, type ExpectationKind } from '../../domain/run-audit';

/** Something a run declared it will do; the matching run_ack says it did. */
export class RunExpectation {
  id!: string;
  runId!: string;
  key!: string;
  kind!: ExpectationKind;
  waivedReason?: string | null;
  createdAt: Date = new Date();
}

export const RunExpectationSchema = new EntitySchema<RunExpectation>({
  class: RunExpectation,
  tableName: 'run_expectation',
  uniques: [{ name: 'run_expectation_run_key_unique', properties: ['runId', 'key'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    runId: { type: 'uuid' },
    key: { type: 'string', length: 100 },
    kind: { enum: true, items: () => [...EXPECTATION_KINDS] },
    waivedReason: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
  },
});
