import { isolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';

// A database of its own, migrated from nothing: the shared test database gathers a schema per tenant every other test
// provisions, and introspecting hundreds of them tells nothing about the migrations and takes minutes.
let database: IsolatedDatabase;
beforeAll(async () => {
  database = await isolatedDatabase('schema_drift');
});
afterAll(() => database.drop());

describe('hand-written migrations', () => {
  it('leave the shared tables exactly as the entity schemas describe them', async () => {
    const drift = await database.orm.schema.getUpdateSchemaSQL({ wrap: false });
    const sharedDrift = drift
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    expect(sharedDrift).toEqual([]);
  });
});
