import { DomainEventRecord } from './entities';
import type { Orm } from './orm';

export interface EventFilter {
  tenantId?: string;
  runId?: string;
  /** An exact type (`tenant.suspended`) or a prefix ending in `.*` (`lifecycle.*`). */
  type?: string;
  /** Only gate decisions of this gate (`protection`, `billing`, …). */
  gate?: string;
  /** Only refusals (block and throttle), not allows. */
  refusalsOnly?: boolean;
  from?: Date;
  to?: Date;
  /** The id of the last event of the previous page: pages go from newest to oldest. */
  beforeId?: string;
  limit: number;
}

export interface EventPage {
  events: Array<{ id: string; type: string; tenantId: string | null; runId: string | null; workflowId: string | null; actor: string | null; data: unknown; at: string }>;
  nextBeforeId: string | null;
}

/** Reads the events table newest first, one page at a time, on the indexes the filters need. */
export async function listEvents(orm: Orm, filter: EventFilter): Promise<EventPage> {
  const query = orm.em.fork().createQueryBuilder(DomainEventRecord, 'e').select('*').orderBy({ id: 'desc' }).limit(filter.limit + 1);
  if (filter.tenantId) query.andWhere({ tenantId: filter.tenantId });
  if (filter.runId) query.andWhere({ runId: filter.runId });
  if (filter.type?.endsWith('.*')) query.andWhere({ type: { $like: `${filter.type.slice(0, -1).replace(/[%_\\]/g, '\\$&')}%` } });
  else if (filter.type) query.andWhere({ type: filter.type });
  if (filter.gate) query.andWhere(`e.data->>'gate' = ?`, [filter.gate]);
  if (filter.refusalsOnly) query.andWhere({ type: { $in: ['gate.block', 'gate.throttle'] } });
  if (filter.from) query.andWhere({ at: { $gte: filter.from } });
  if (filter.to) query.andWhere({ at: { $lt: filter.to } });
  if (filter.beforeId) query.andWhere({ id: { $lt: filter.beforeId } });
  const rows = await query.getResultList();
  const page = rows.slice(0, filter.limit);
  return {
    events: page.map((row) => ({
      id: String(row.id),
      type: row.type,
      tenantId: row.tenantId ?? null,
      runId: row.runId ?? null,
      workflowId: row.workflowId ?? null,
      actor: row.actor ?? null,
      data: row.data ?? null,
      at: new Date(row.at).toISOString(),
    })),
    nextBeforeId: rows.length > filter.limit ? String(page.at(-1)!.id) : null,
  };
}
