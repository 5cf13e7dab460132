/**
 * Which errors are an outage (503 naming the dependency's class) and which are not, taken from the real clients: the
 * Temporal client against a server that refuses or never answers, the ORM against the suite's Postgres behind a proxy
 * the test freezes, and Postgres's own refusals.
 */
import net from 'node:net';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, WorkflowNotFoundError } from '@temporalio/client';
import { dependencyClassOf } from '../../src/api/dependency-problem';
import { deterministicDatabaseFailure, isDatabaseUnavailable } from '../../src/db/database-errors';
import { createOrm, type Orm } from '../../src/db/orm';
import { defaultDeadlineInterceptor } from '../../src/temporal/call-deadline';
import { isTemporalUnavailable } from '../../src/temporal/temporal-errors';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy';
import { freePort } from '../support/ports';
import { testDatabaseUrl, testTemporalAddress } from '../support/stack';
import { waitFor } from '../support/wait';

const failureOf = async (work: () => Promise<unknown>): Promise<unknown> => {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
};

const interceptors = (defaultTimeoutMs: number) => [defaultDeadlineInterceptor(defaultTimeoutMs), makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];

describe('Temporal errors', () => {
  const silent: net.Socket[] = [];
  let frozenServer: net.Server;
  let frozenAddress: string;

  beforeAll(async () => {
    // Accepts and never answers: a frozen Temporal as its clients meet it.
    frozenServer = net.createServer((socket) => silent.push(socket));
    await new Promise<void>((resolve) => frozenServer.listen(0, '127.0.0.1', resolve));
    frozenAddress = `127.0.0.1:${(frozenServer.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of silent) socket.destroy();
    await new Promise((resolve) => frozenServer.close(resolve));
  });

  it('gives a call without a deadline one, so a frozen server fails it as DEADLINE_EXCEEDED instead of hanging', async () => {
    const connection = Connection.lazy({ address: frozenAddress, interceptors: interceptors(500) });
    const startedAt = Date.now();
    const error = await failureOf(() => connection.workflowService.getSystemInfo({}));
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect((error as { code?: number }).code).toBe(4);
    expect(isTemporalUnavailable(error)).toBe(true);
    await connection.close();
  });

  it('classifies a workflow start the SDK wraps in a ServiceError, against a frozen or a refusing server, as temporal', async () => {
    for (const address of [frozenAddress, `127.0.0.1:${await freePort()}`]) {
      const connection = Connection.lazy({ address, interceptors: interceptors(60_000) });
      const client = new Client({ connection });
      const error = await failureOf(() =>
        connection.withDeadline(Date.now() + 800, () => client.workflow.start('provisionTenant', { taskQueue: 'nowhere', workflowId: 'outage-classification', args: [] })),
      );
      expect({ address, class: dependencyClassOf(error) }).toEqual({ address, class: 'temporal' });
      await connection.close();
    }
  });

  it('does not call a refusal by a live Temporal an outage', async () => {
    const connection = await Connection.connect({ address: testTemporalAddress() });
    const client = new Client({ connection });
    const notFound = await failureOf(() => client.workflow.getHandle(`no-such-workflow-${Date.now()}`).describe());
    expect(notFound).toBeInstanceOf(WorkflowNotFoundError);
    expect(dependencyClassOf(notFound)).toBeUndefined();
    await connection.close();
  });
});

describe('Postgres errors', () => {
  let proxy: FreezableProxy;
  let orm: Orm;
  let direct: Orm;

  beforeAll(async () => {
    const url = new URL(testDatabaseUrl());
    proxy = await startFreezableProxy({ host: url.hostname, port: Number(url.port) });
    url.host = proxy.address;
    orm = await createOrm(url.toString(), 2, { queryTimeoutMs: 1000 });
    direct = await createOrm(testDatabaseUrl());
  });
  const answersAgain = () => waitFor(async () => (await orm.em.fork().execute('select 1')).length === 1, { timeoutMs: 10_000 });
  // Connections a frozen test left half-open fail the pool's next waits first (knex propagates a failed connect to
  // whoever waits); each test starts once the pool answers again.
  beforeEach(async () => {
    proxy.thaw();
    await answersAgain();
  });
  afterAll(async () => {
    proxy.thaw();
    await orm.close(true);
    await direct.close(true);
    await proxy.close();
  });

  it('bounds a statement to a frozen server and classifies its timeout as database', async () => {
    await orm.em.fork().execute('select 1');
    proxy.freeze();
    const startedAt = Date.now();
    const error = await failureOf(() => orm.em.fork().execute('select 1'));
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(dependencyClassOf(error)).toBe('database');
  });

  it('bounds waiting for a pooled connection and for a new one, both classified as database', async () => {
    proxy.freeze();
    // Two statements hold the pool's two connections; the third waits for one and gives up.
    const held = [orm.em.fork().execute('select 1'), orm.em.fork().execute('select 1')].map((statement) => failureOf(() => statement));
    const waiting = await failureOf(() => orm.em.fork().execute('select 1'));
    expect(dependencyClassOf(waiting)).toBe('database');
    for (const error of await Promise.all(held)) expect(dependencyClassOf(error)).toBe('database');
  });

  it('hands out no connection still inside a transaction a frozen server never rolled back', async () => {
    proxy.freeze();
    const error = await failureOf(() => orm.em.fork().transactional((em) => em.execute('select 1')));
    expect(dependencyClassOf(error)).toBe('database');
    proxy.thaw();
    // Each connection the pool hands out now is at the start of its own statement's transaction, not an old one.
    for (let attempt = 0; attempt < 4; attempt++) {
      const [session] = await orm.em.fork().execute<Array<{ fresh: boolean }>>('select xact_start = statement_timestamp() as fresh from pg_stat_activity where pid = pg_backend_pid()');
      expect(session!.fresh).toBe(true);
    }
  });

  it("classifies the server's own refusals to serve as database: a statement past statement_timeout, a terminated backend", async () => {
    const cancelled = await failureOf(() => orm.em.fork().execute('select pg_sleep(3)'));
    expect(dependencyClassOf(cancelled)).toBe('database');

    const sleeping = failureOf(() => direct.em.fork().execute("select pg_sleep(5), 'outage-victim'"));
    const victimQuery = () => direct.em.fork().execute<Array<{ pid: number }>>(`select pid from pg_stat_activity where query like '%outage-victim%' and pid <> pg_backend_pid()`);
    await waitFor(async () => (await victimQuery()).length > 0);
    await direct.em.fork().execute(`select pg_terminate_backend(pid) from pg_stat_activity where query like '%outage-victim%' and pid <> pg_backend_pid()`);
    expect(dependencyClassOf(await sleeping)).toBe('database');
  });

  it('does not call a statement Postgres refuses for its data or its text an outage', async () => {
    const divisionByZero = await failureOf(() => orm.em.fork().execute('select 1 / 0'));
    const syntax = await failureOf(() => orm.em.fork().execute('selec 1'));
    expect(dependencyClassOf(divisionByZero)).toBeUndefined();
    expect(deterministicDatabaseFailure(divisionByZero)).toMatchObject({ type: 'InvalidData' });
    expect(dependencyClassOf(syntax)).toBeUndefined();
  });
});
