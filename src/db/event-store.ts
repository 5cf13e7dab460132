import type { EventStore } from '../observability/event-sink';
import { storableJson, storableText } from '../domain/storable-text';
import { DomainEventRecord } from './entities';
import type { Orm } from './orm';

/**
 * Writes a batch of events in one INSERT on its own connection, outside any business transaction. Text is made storable
 * first: one event Postgres refuses would drop its whole batch.
 */
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
            actor: event.actor == null ? null : storableText(event.actor, 200),
            data: event.data == null ? null : storableJson(event.data),
            at: event.at,
          })),
        )
        .execute();
    },
  };
}
