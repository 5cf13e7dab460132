import type { Orm } from '../../src/db/orm';

/**
 * Finished runs missing their step:0 ack, finished just now, so their findings stay open (a late ack could still land)
 * and they stay unsettled: the backlog that used to hide every newer run. Oldest first, a minute apart.
 */
export async function craftBacklog(orm: Orm, count: number, options: { newestMinutesAgo?: number } = {}): Promise<string[]> {
  const em = orm.em.fork();
  const rows = await em.execute<Array<{ id: string }>>(
    `with crafted as (
       insert into run (id, tenant_id, workflow_id, phase, plan, step_states, outcome, degraded, submitted_by, finalize_deadline, created_at, finished_at)
         select gen_random_uuid(), gen_random_uuid(), 'run:backlog-' || g, 'COMPLETED', '{"steps":[]}', '[]', 'completed', false, 'user:test',
                now() + interval '1 hour', now() - make_interval(mins => ? + ? - g), now()
           from generate_series(1, ?) g
         returning id, created_at)
     select id from crafted order by created_at`,
    [count, options.newestMinutesAgo ?? 0, count],
  );
  const ids = rows.map((row) => row.id);
  await em.execute(`insert into run_expectation (run_id, key, kind) select id, 'step:0', 'step' from run where id in (?)`, [ids]);
  return ids;
}
