import { randomUUID } from 'node:crypto';
import type { Orm } from '../../src/db/orm';
import { createRequestBudgets } from '../../src/db/request-budgets';
import { testOrm } from '../support/stack';

let orm: Orm;
beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

const bucket = (kind: string) => ({ bucket: `test-${randomUUID()}:${kind}`, windowSeconds: 60 });
const hitsOf = async (name: string) => (await orm.em.fork().execute<Array<{ hits: number }>>('select hits from request_budget_counter where bucket = ?', [name]))[0]?.hits;

describe('request budget counters', () => {
  it('counts a request in its narrow and its wide bucket, with the time left in the window', async () => {
    const budgets = createRequestBudgets(orm);
    const [credential, tenant] = [bucket('credential'), bucket('tenant')];
    await budgets.countHit(credential, 10, tenant);
    const second = await budgets.countHit(credential, 10, tenant);
    expect(second).toEqual({ narrow: { bucket: credential.bucket, hits: 2, msLeft: expect.any(Number) }, wide: { bucket: tenant.bucket, hits: 2, msLeft: expect.any(Number) } });
    expect(second.narrow.msLeft).toBeGreaterThan(50_000);
    expect(second.narrow.msLeft).toBeLessThanOrEqual(60_000);
  });

  it('stops counting in the wide bucket once the narrow one is over its budget', async () => {
    const budgets = createRequestBudgets(orm);
    const [address, ceiling] = [bucket('address'), bucket('anonymous')];
    const counted = [];
    for (let request = 0; request < 5; request += 1) counted.push(await budgets.countHit(address, 2, ceiling));
    expect(counted.map((count) => [count.narrow.hits, count.wide?.hits])).toEqual([[1, 1], [2, 2], [3, undefined], [4, undefined], [5, undefined]]);
    expect(await hitsOf(ceiling.bucket)).toBe(2);
  });

  it('loses no hit and deadlocks on none when many processes count the same buckets at once', async () => {
    const budgets = [createRequestBudgets(orm), createRequestBudgets(orm)];
    const tenant = bucket('tenant');
    const credentials = [bucket('credential-a'), bucket('credential-b')];
    await Promise.all(Array.from({ length: 40 }, (_, index) => budgets[index % 2]!.countHit(credentials[index % 2]!, 1_000, tenant)));
    expect(await hitsOf(tenant.bucket)).toBe(40);
    expect([await hitsOf(credentials[0]!.bucket), await hitsOf(credentials[1]!.bucket)]).toEqual([20, 20]);
  });

  it('opens a new window at the first hit after one ended, and clears windows long ended', async () => {
    const budgets = createRequestBudgets(orm);
    const [ended, old] = [bucket('ended'), bucket('old')];
    for (let request = 0; request < 3; request += 1) await budgets.countHit(ended, 100);
    await budgets.countHit(old, 100);
    await orm.em.fork().execute(`update request_budget_counter set window_ends_at = now() - interval '1 second' where bucket = ?`, [ended.bucket]);
    await orm.em.fork().execute(`update request_budget_counter set window_ends_at = now() - interval '2 minutes' where bucket = ?`, [old.bucket]);

    const reopened = await budgets.countHit(ended, 100);
    expect(reopened.narrow.hits).toBe(1);
    expect(reopened.narrow.msLeft).toBeGreaterThan(50_000);
    expect(await budgets.clearEnded()).toBeGreaterThanOrEqual(1);
    expect(await hitsOf(old.bucket)).toBeUndefined();
    expect(await hitsOf(ended.bucket)).toBe(1);
  });
});
