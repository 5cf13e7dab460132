import { runConcurrently } from './concurrency';

export const LOAD_PASSWORD = 'Load-Test-Battery-4242';
const ACTIVE_DEADLINE_MS = 120_000;

/** A tenant the mix drives: its owner's credentials, a session, a machine key and runs to read. */
export interface LoadTenant {
  tenantId: string;
  signupWorkflowId: string;
  email: string;
  accessToken: string;
  apiKey: string;
  runIds: string[];
}

export interface Api {
  baseUrl: string;
  operatorToken: string;
}

async function call<T>(api: Api, method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<T> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const loadEmail = (label: string) => `${label}@load.example.com`;
export const runPlan = (key: string) => ({ description: 'load test', steps: [{ kind: 'records.write', key, value: { by: 'load' } }] });

/**
 * Tenants made the way customers make them, through the public API: signup, wait for `active`, log in, create an API
 * key; then an operator moves each to the enterprise plan (so the plan's concurrent-run limit does not refuse the mix)
 * and each submits two runs the mix can read.
 */
export async function prepareTenants(api: Api, count: number, prefix: string): Promise<LoadTenant[]> {
  const tenants: LoadTenant[] = [];
  await runConcurrently(count, 8, async (index) => {
    const email = loadEmail(`${prefix}-owner-${index}`);
    const signup = await call<{ tenantId: string; workflowId: string }>(api, 'POST', '/api/v1/signup', { body: { email, password: LOAD_PASSWORD, orgName: `${prefix} Load Org ${index}` } });
    const deadline = Date.now() + ACTIVE_DEADLINE_MS;
    for (;;) {
      const progress = await call<{ outcome: string }>(api, 'GET', `/api/v1/signup/${signup.workflowId}`);
      if (progress.outcome === 'active') break;
      if (progress.outcome !== 'running' || Date.now() > deadline) throw new Error(`provisioning of ${email} ended ${progress.outcome}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const session = await call<{ accessToken: string }>(api, 'POST', '/api/v1/auth/login', { body: { email, password: LOAD_PASSWORD } });
    const key = await call<{ key: string }>(api, 'POST', `/api/v1/tenants/${signup.tenantId}/api-keys`, { token: session.accessToken, body: { name: 'load', role: 'admin' } });
    await call(api, 'PUT', `/api/v1/admin/tenants/${signup.tenantId}/billing-state`, { token: api.operatorToken, body: { subscriptionState: 'active', plan: 'enterprise', reason: 'load test' } });
    const runIds: string[] = [];
    for (let run = 0; run < 2; run++) {
      const accepted = await call<{ runId: string }>(api, 'POST', '/api/v1/runs', { token: key.key, headers: { 'idempotency-key': `prep-${prefix}-${index}-${run}` }, body: runPlan(`prep-${run}`) });
      runIds.push(accepted.runId);
    }
    tenants.push({ tenantId: signup.tenantId, signupWorkflowId: signup.workflowId, email, accessToken: session.accessToken, apiKey: key.key, runIds });
  });
  return tenants;
}

/** Sessions for the refresh stream: one login each, taken round-robin over the tenants' owners. */
export async function loginMany(api: Api, tenants: LoadTenant[], count: number): Promise<string[]> {
  const refreshTokens: string[] = [];
  await runConcurrently(count, 4, async (index) => {
    const session = await call<{ refreshToken: string }>(api, 'POST', '/api/v1/auth/login', { body: { email: tenants[index % tenants.length]!.email, password: LOAD_PASSWORD } });
    refreshTokens.push(session.refreshToken);
  });
  return refreshTokens;
}
