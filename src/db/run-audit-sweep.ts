import type { EntityManager } from '@mikro-orm/postgresql';

/** The reconciler's one sweep: its row in run_audit_cursor. */
const SWEEP = 'runs';

export interface UnsettledBatch {
  runIds: string[];
  /** The batch begins with the oldest unsettled run: a new sweep of the backlog starts here. */
  startsSweep: boolean;
  /** Fewer runs than asked for were left: after this batch the sweep starts again from the oldest. */
  endsSweep: boolean;
}

/**
 * The next `limit` unsettled runs after the cursor, in (created_at, id) order, with the cursor's row locked until the
 * caller's transaction ends: passes that overlap take turns instead of examining the same batch. Run inside the
 * transaction that stores the batch's findings, then call `moveCursorPast`.
 */
export async function claimUnsettledBatch(em: EntityManager, limit: number): Promise<UnsettledBatch> {
  await em.execute(`insert into run_audit_cursor (name) values (?) on conflict (name) do nothing`, [SWEEP]);
  const [cursor] = await em.execute<Array<{ after_run_id: string | null }>>(`select after_run_id from run_audit_cursor where name = ? for update`, [SWEEP]);
  const startsSweep = !cursor?.after_run_id;
  // The cursor's timestamp never leaves Postgres, so its microseconds survive the round trip.
  const rows = startsSweep
    ? await em.execute<Array<{ id: string }>>(`select id from run where audit_settled_at is null order by created_at, id limit ?`, [limit])
    : await em.execute<Array<{ id: string }>>(
        `select id from run where audit_settled_at is null
           and (created_at, id) > (select after_created_at, after_run_id from run_audit_cursor where name = ?)
           order by created_at, id limit ?`,
        [SWEEP, limit],
      );
  return { runIds: rows.map((row) => row.id), startsSweep, endsSweep: rows.length < limit };
}

/** Moves the cursor past the batch's last run, or back to the start when the batch ended the sweep. */
export async function moveCursorPast(em: EntityManager, batch: UnsettledBatch): Promise<void> {
  const last = batch.runIds.at(-1);
  if (batch.endsSweep || last === undefined) {
    await em.execute(`update run_audit_cursor set after_created_at = null, after_run_id = null, updated_at = now() where name = ?`, [SWEEP]);
    return;
  }
  await em.execute(
    `update run_audit_cursor c set after_created_at = r.created_at, after_run_id = r.id, updated_at = now() from run r where c.name = ? and r.id = ?`,
    [SWEEP, last],
  );
}
