import { Router } from 'express';
import { listEvents, type EventFilter } from '../../db/event-queries';
import type { Orm } from '../../db/orm';
import type { RouteDeclarer } from '../auth';
import { parseOr400 } from '../problem';
import { encodeCursor, eventQuerySchema, watchQuerySchema } from '../schemas/events';

type WatchQuery = ReturnType<typeof watchQuerySchema.parse>;

const commonFilter = (query: WatchQuery): Omit<EventFilter, 'type'> => ({
  tenantId: query.tenantId,
  from: query.from ? new Date(query.from) : undefined,
  to: query.to ? new Date(query.to) : undefined,
  beforeId: query.cursor,
  limit: query.limit,
});

/** The watch list: named queries over the same events, for what an operator checks first. */
const WATCHES: Record<string, { summary: string; filter: Partial<EventFilter> }> = {
  'lifecycle-transitions': { summary: 'Recent tenant lifecycle transitions', filter: { type: 'lifecycle.*' } },
  'protection-decisions': { summary: 'Abuse-protection refusals (throttles and blocks)', filter: { gate: 'protection', refusalsOnly: true } },
  'billing-limit-hits': { summary: 'Requests and runs refused by a billing limit', filter: { gate: 'billing', refusalsOnly: true } },
};

/** Query-only operator API over the events table; nothing here changes anything. */
export function adminEventRoutes(options: { orm: Orm; route: RouteDeclarer }): Router {
  const router = Router();
  const page = async (filter: EventFilter) => {
    const result = await listEvents(options.orm, filter);
    return { events: result.events, nextCursor: result.nextBeforeId ? encodeCursor(result.nextBeforeId) : null };
  };

  options.route(router, {
    method: 'get',
    path: '/api/v1/admin/events',
    auth: 'operator:ops',
    docs: { summary: 'Events filtered by tenant, run, type (or prefix.*) and time, newest first, paged by cursor', tags: ['admin'], query: eventQuerySchema },
    handler: async (request, response) => {
      const query = parseOr400(eventQuerySchema, request.query, 'query');
      response.json(await page({ ...commonFilter(query), runId: query.runId, type: query.type }));
    },
  });

  for (const [name, watch] of Object.entries(WATCHES)) {
    options.route(router, {
      method: 'get',
      path: `/api/v1/admin/watch/${name}`,
      auth: 'operator:ops',
      docs: { summary: watch.summary, tags: ['admin', 'watch'], query: watchQuerySchema },
      handler: async (request, response) => {
        const query = parseOr400(watchQuerySchema, request.query, 'query');
        response.json(await page({ ...commonFilter(query), ...watch.filter }));
      },
    });
  }
  return router;
}
