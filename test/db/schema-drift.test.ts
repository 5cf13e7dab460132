import type { Orm } from '../../src/db/orm';
import { testOrm } from '../support/stack';

let orm: Orm;
beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

describe('hand-written migrations', () => {
  it('leave the shared tables exactly as the entity schemas describe them', async () => {
    const drift = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    // Tenants' own schemas (tenant_<id>) are made by provisioning, not by entities: not drift.
    const sharedDrift = drift
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !/"tenant_[0-9a-f]{32}"/.test(line));
    expect(sharedDrift).toEqual([]);
  });
});
