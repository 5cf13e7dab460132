import type { EventStore } from '../observability/event-sink';
import { DomainEventRecord } from './entities';
import type { Orm } from './orm';

/** Writes a batch of events in one INSERT on its own connection, outside any business transaction. */
export function postgresEventStore(orm: Orm): EventStore {
  return {
    async append(events) {
      if (events.length === 0) return;
      await orm.em
        .fork()
        .createQueryBuilder(DomainEventRecord)
        .insert(
          events.map((event) => ({
            type: event.type,
            tenantId: event.tenantId ?? null,
            runId: event.runId ?? null,
            workflowId: event.workflowId ?? null,
            actor: event.actor ?? null,
            data: event.data ?? null,
            at: event.at,
          })),
        )
        .execute();
    },
  };
}
