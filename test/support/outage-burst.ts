import { DEPENDENCY_RETRY_AFTER_SECONDS } from '../../src/api/dependency-problem';
import type { Topology } from '../../tools/topology/topology';
import { KNOWN_PASSWORD, OPERATORS } from './auth';
import { FleetClient, type FleetTenant } from './topology';

/** One answer a drill client got (status 0: no answer at all, within the client's own patience, or a broken connection). */
export interface DrillAnswer {
  action: string;
  status: number;
  ms: number;
  retryAfter: string | null;
  contentType: string | null;
  type?: string;
  error?: string;
}

export interface DrillSignup {
  name: string;
  email: string;
  client: FleetClient;
  tenantId?: string;
  workflowId?: string;
  /** The last answer's status. */
  status?: number;
}

export interface DrillRun {
  tenant: FleetTenant;
  key: string;
  runId?: string;
  /** The last answer's status: 202, or a refusal that is the client's to act on (429 at the tenant's ceiling). */
  status?: number;
}

/** What one drill's clients did: every answer, and what they asked for that the drill must find settled afterwards. */
export interface BurstRecord {
  answers: DrillAnswer[];
  signups: DrillSignup[];
  runs: DrillRun[];
}

/** Two records of status 0 or 5xx would be lost in a summary; the record keeps them all for the assertion message. */
export const newBurstRecord = (): BurstRecord => ({ answers: [], signups: [], runs: [] });

/** A run with effects on both sides of a wait, so an outage can fall between its expectations and their acks. */
export const drillPlan = (tag: string) => ({
  steps: [
    { kind: 'records.write', key: `${tag}/before`, value: { tag } },
    { kind: 'wait', duration: '1s' },
    { kind: 'records.write', key: `${tag}/after`, value: { tag } },
  ],
});

export interface BurstWorld {
  topology: Topology;
  /** Tenants that submit runs and read them. */
  tenants: FleetTenant[];
  /** The tenant operators suspend and unsuspend: never one that submits runs, whose refusals would then be 409s. */
  operated: FleetTenant;
  /** The client's own patience: well past the deadline, so a hang is seen as one and not cut off as a slow answer. */
  clientTimeoutMs: number;
}

/** What the outage answers' Retry-After says (DEPENDENCY_RETRY_AFTER_SECONDS). */
const RETRY_AFTER_HONOURED_MS = DEPENDENCY_RETRY_AFTER_SECONDS * 1000;

let addressCounter = 0;
/** An address per signup: the per-address signup limit (5 an hour) must not be what a drill measures. */
const drillClient = () => {
  const n = ++addressCounter;
  return new FleetClient(`198.18.${Math.floor(n / 250)}.${(n % 250) + 1}`);
};

/**
 * The mixed traffic of a drill: signups, run submissions, reads and operator actions, spread round robin over the
 * API processes as a load balancer would, each answer recorded with its time. A signup or keyed run answered 503 is
 * kept, so `retryUntilSettled` can send it again as a well-behaved client does.
 */
export function createBurst(world: BurstWorld, drill: string, record: BurstRecord) {
  let sequence = 0;
  const apiUrl = () => world.topology.apis[sequence % world.topology.apis.length]!.url;

  async function timed(action: string, send: (signal: AbortSignal) => ReturnType<FleetClient['call']>): Promise<Awaited<ReturnType<FleetClient['call']>> | undefined> {
    const startedAt = Date.now();
    try {
      const answer = await send(AbortSignal.timeout(world.clientTimeoutMs));
      record.answers.push({
        action,
        status: answer.status,
        ms: Date.now() - startedAt,
        retryAfter: answer.headers.get('retry-after'),
        contentType: answer.headers.get('content-type'),
        type: typeof answer.body.type === 'string' ? answer.body.type : undefined,
      });
      return answer;
    } catch (error) {
      record.answers.push({ action, status: 0, ms: Date.now() - startedAt, retryAfter: null, contentType: null, error: String(error) });
      return undefined;
    }
  }

  async function sendSignup(signup: DrillSignup): Promise<number> {
    const answer = await timed('signup', (signal) =>
      signup.client.call(apiUrl(), 'POST', '/api/v1/signup', { body: { orgName: signup.name, email: signup.email, password: KNOWN_PASSWORD }, signal }),
    );
    if (answer?.status === 202) {
      signup.tenantId = String(answer.body.tenantId);
      signup.workflowId = String(answer.body.workflowId);
    }
    signup.status = answer?.status ?? 0;
    return signup.status;
  }

  async function sendRun(run: DrillRun): Promise<number> {
    const answer = await timed('run', (signal) =>
      run.tenant.client.call(apiUrl(), 'POST', '/api/v1/runs', { body: drillPlan(run.key), headers: { 'idempotency-key': run.key }, signal }),
    );
    if (answer?.status === 202) run.runId = String(answer.body.runId);
    run.status = answer?.status ?? 0;
    return run.status;
  }

  const operator = () => new FleetClient('198.19.0.1', OPERATORS.ops.token);
  /** Each action answers with the status its client got (undefined: nothing was sent). */
  const actions: Array<() => Promise<number | undefined>> = [
    async () => {
      const signup: DrillSignup = { name: `drill-${drill}-${sequence}`, email: `drill-${drill}-${sequence}@fleet.example`, client: drillClient() };
      record.signups.push(signup);
      return sendSignup(signup);
    },
    async () => {
      const run: DrillRun = { tenant: world.tenants[sequence % world.tenants.length]!, key: `drill-${drill}-${sequence}` };
      record.runs.push(run);
      return sendRun(run);
    },
    async () => {
      const known = record.runs.filter((run) => run.runId).at(-1);
      const tenant = known?.tenant ?? world.tenants[0]!;
      return (await timed('read run', (signal) => tenant.client.call(apiUrl(), 'GET', known ? `/api/v1/runs/${known.runId}` : '/api/v1/runs', { signal })))?.status;
    },
    async () => {
      const known = record.signups.filter((signup) => signup.workflowId).at(-1);
      if (!known) return undefined;
      return (await timed('signup progress', (signal) => known.client.call(apiUrl(), 'GET', `/api/v1/signup/${known.workflowId}`, { signal })))?.status;
    },
    async () => {
      const action = sequence % 2 === 0 ? 'suspend' : 'unsuspend';
      const answer = await timed(`operator ${action}`, (signal) =>
        operator().call(apiUrl(), 'POST', `/api/v1/admin/tenants/${world.operated.tenantId}/${action}`, { body: { reason: `outage drill ${drill}` }, signal }),
      );
      return answer?.status;
    },
    async () => (await timed('operator tenant view', (signal) => operator().call(apiUrl(), 'GET', `/api/v1/admin/tenants/${world.operated.tenantId}`, { signal })))?.status,
  ];

  return {
    /** Keeps `lanes` clients busy until `stop` resolves; each client waits for its answer before it asks again. */
    async run(lanes: number, stop: Promise<unknown>, pauseMs = 100): Promise<void> {
      let stopped = false;
      void stop.then(() => (stopped = true));
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          while (!stopped) {
            const index = sequence++;
            const status = await actions[(index + lane) % actions.length]!();
            // A client honours Retry-After (the runbook asks clients to): a refused one does not spin.
            await new Promise((resolve) => setTimeout(resolve, status === 503 ? RETRY_AFTER_HONOURED_MS : pauseMs));
          }
        }),
      );
    },

    /** What a client does after a 503: the same signup, the same keyed run, until it is answered otherwise. */
    async retryUntilSettled(timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      const retry = async (send: () => Promise<number>) => {
        for (;;) {
          const status = await send();
          if (status !== 503 && status !== 0) return;
          if (Date.now() > deadline) throw new Error(`still answered ${status} after ${timeoutMs} ms of retries`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_HONOURED_MS));
        }
      };
      await Promise.all([
        ...record.signups.filter((signup) => !signup.workflowId).map((signup) => retry(() => sendSignup(signup))),
        ...record.runs.filter((run) => !run.runId).map((run) => retry(() => sendRun(run))),
      ]);
      // The operated tenant ends active whatever the last operator action was (409 when it already is).
      await retry(async () => {
        const status = (await timed('operator unsuspend', (signal) =>
          operator().call(apiUrl(), 'POST', `/api/v1/admin/tenants/${world.operated.tenantId}/unsuspend`, { body: { reason: `outage drill ${drill} over` }, signal }),
        ))?.status;
        return status ?? 0;
      });
    },
  };
}

/** Answers by status, the slowest, and the 503s by the class they name: the figures a drill reports. */
export function summariseAnswers(answers: DrillAnswer[]) {
  const byStatus: Record<string, number> = {};
  const unavailableBy: Record<string, number> = {};
  for (const answer of answers) {
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    if (answer.status === 503) {
      const dependency = answer.type?.split('/').at(-1) ?? 'untyped';
      unavailableBy[`${dependency}:${answer.action}`] = (unavailableBy[`${dependency}:${answer.action}`] ?? 0) + 1;
    }
  }
  return { total: answers.length, byStatus, unavailableBy, slowestMs: Math.max(0, ...answers.map((answer) => answer.ms)) };
}
