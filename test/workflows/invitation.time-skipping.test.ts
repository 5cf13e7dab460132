import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { invitationQuery, type InvitationView } from '../../src/contracts/accounts';
import type { Orm } from '../../src/db/orm';
import { countSeats } from '../../src/db/seats';
import { createTeamService, type TeamService } from '../../src/services/accounts/team-service';
import { invitationWorkflowId } from '../../src/temporal/workflow-ids';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { createActiveTenant } from '../support/runs';
import { startWorker, testOrm, uniqueSlug, uniqueTaskQueue } from '../support/stack';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { DEFAULT_MAIL_RATION_SETTINGS } from '../../src/domain/mail-ration';

// On the Java time-skipping server, with real Postgres and SMTP (Mailpit): an invitation's week passes in seconds.
let environment: TestWorkflowEnvironment;
let orm: Orm;
const taskQueue = uniqueTaskQueue('invite-ts');
const DAY_MS = 86_400_000;
const OWNER = { actor: 'user:owner', userId: null, role: 'owner' as const };

beforeAll(async () => {
  environment = await createTimeSkippingEnvironment();
  orm = await testOrm();
});
afterAll(async () => {
  await environment?.teardown();
  await orm?.close(true);
});

async function withWorker<T>(body: (worker: Worker) => Promise<T>): Promise<T> {
  const worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm });
  return worker.runUntil(body(worker));
}

/** The team service on the server's clock: earlier tests of the file moved it days ahead of the wall clock. */
async function invitation(options: { unverified?: boolean } = {}) {
  const serverNow = await environment.currentTimeMs();
  const team: TeamService = createTeamService({ client: environment.client, orm, taskQueue, expiryDays: 7, reminderAfterHours: 72, mailRation: DEFAULT_MAIL_RATION_SETTINGS, now: () => new Date(serverNow) });
  const tenant = await createActiveTenant(orm);
  if (options.unverified) await orm.em.fork().execute(`update tenant set email_verification = 'pending' where id = ?`, [tenant.tenantId]);
  const email = `invitee-${uniqueSlug('i')}@example.com`;
  const invited = await team.invite({ tenantId: tenant.tenantId, email, role: 'member', by: OWNER });
  if (invited.kind !== 'invited') throw new Error(`invite answered ${invited.kind}`);
  return { team, tenant, email, id: invited.invitation.id, handle: environment.client.workflow.getHandle(invitationWorkflowId(invited.invitation.id)) };
}

const statusOf = async (id: string) => ((await orm.em.fork().execute('select status from invitation where id = ?', [id]))[0] as { status: string }).status;

describe('teamInvitation on the time-skipping server', () => {
  it('reminds with the same link after three days, then expires at seven: the link is dead and the seat is free', async () => {
    const invited = await invitation();
    await withWorker(async () => {
      const [first] = await waitForMails(invited.email, 1);
      expect(first!.Subject).toMatch(/^You are invited to join /);
      await environment.sleep('73 hours');
      const [, reminder] = await waitForMails(invited.email, 2);
      expect(reminder!.Subject).toMatch(/^Reminder: you are invited to join /);
      expect(linkToken(reminder!, 'accept-invitation')).toBe(linkToken(first!, 'accept-invitation'));
      expect(await countSeats(orm.em.fork(), invited.tenant.tenantId)).toMatchObject({ members: 1, pending: 1 });

      const result: InvitationView = await invited.handle.result();
      expect(result.outcome).toBe('expired');
      expect(await invited.team.accept({ token: linkToken(first!, 'accept-invitation'), password: 'Some-Password-1234' })).toEqual({ kind: 'invalid_token' });
    });
    expect(await statusOf(invited.id)).toBe('expired');
    expect(await countSeats(orm.em.fork(), invited.tenant.tenantId)).toMatchObject({ members: 1, pending: 0 });
    const actions = await orm.em.fork().execute(`select action, actor from audit_event where entity_id = ? order by id`, [invited.id]);
    expect(actions).toEqual([
      { action: 'invitation.created', actor: 'user:owner' },
      { action: 'invitation.expired', actor: 'system:invitations' },
    ]);
  });

  it("sends an unverified tenant's invitation once and withholds its reminder; the invitation still expires at seven days", async () => {
    const invited = await invitation({ unverified: true });
    await withWorker(async () => {
      await waitForMails(invited.email, 1);
      await environment.sleep('73 hours');
      expect((await invited.handle.result()).outcome).toBe('expired');
    });
    // The workflow has ended: every mail it would ever send has been sent.
    expect(await mailsTo(invited.email)).toHaveLength(1);
    expect(await statusOf(invited.id)).toBe('expired');
  });

  it('lets an operator extend a pending invitation: it stays open past its first expiry and lapses at the new one', async () => {
    const invited = await invitation();
    await withWorker(async () => {
      await waitForMails(invited.email, 1);
      const firstExpiry = Date.parse((await invited.handle.query(invitationQuery)).expiresAt);
      await environment.sleep('6 days');
      const extended = await invited.team.extend({ tenantId: invited.tenant.tenantId, invitationId: invited.id, days: 3, actor: 'operator:ada', reason: 'invitee on holiday' });
      expect(extended).toMatchObject({ kind: 'extended', view: { outcome: 'pending' } });
      const newExpiry = Date.parse((extended as { view: InvitationView }).view.expiresAt);
      expect(newExpiry - firstExpiry).toBe(3 * DAY_MS);

      await environment.sleep('2 days');
      expect((await invited.handle.query(invitationQuery)).outcome).toBe('pending');
      expect(await statusOf(invited.id)).toBe('pending');
      expect((await invited.handle.result()).outcome).toBe('expired');
    });
    const [row] = await orm.em.fork().execute(`select reason, details from audit_event where entity_id = ? and action = 'invitation.extended'`, [invited.id]);
    expect(row).toMatchObject({ reason: 'invitee on holiday' });
    // A settled invitation cannot be extended.
    expect(await invited.team.extend({ tenantId: invited.tenant.tenantId, invitationId: invited.id, days: 1, actor: 'operator:ada', reason: 'too late' })).toMatchObject({ kind: 'refused' });
  });
});
