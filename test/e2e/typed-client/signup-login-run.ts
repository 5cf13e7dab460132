/**
 * A client of the control plane written only against the OpenAPI document: types from openapi-typescript, requests
 * through openapi-fetch. It signs up, waits until the tenant is active, logs in and submits a run, then prints what
 * it got as one JSON line. Usage: node signup-login-run.js <baseUrl> <email> <orgName>
 */
import createClient from 'openapi-fetch';
import type { paths } from './api';

type RunPlan = paths['/api/v1/runs']['post']['requestBody']['content']['application/json'];

// The generated types are the contract, not `any`: a plan without steps does not compile.
// @ts-expect-error steps is required
export const planWithoutSteps: RunPlan = { description: 'no steps' };

const PASSWORD = 'Typed-Client-Battery-42';
const ACTIVE_DEADLINE_MS = 60_000;

async function main(): Promise<void> {
  const [baseUrl, email, orgName] = process.argv.slice(2);
  if (!baseUrl || !email || !orgName) throw new Error('usage: signup-login-run <baseUrl> <email> <orgName>');
  const api = createClient<paths>({ baseUrl });

  const signup = await api.POST('/api/v1/signup', { body: { email, password: PASSWORD, orgName } });
  if (!signup.data) throw new Error(`signup answered ${signup.response.status}: ${JSON.stringify(signup.error)}`);
  const { workflowId, tenantId } = signup.data;

  const deadline = Date.now() + ACTIVE_DEADLINE_MS;
  for (;;) {
    const progress = await api.GET('/api/v1/signup/{workflowId}', { params: { path: { workflowId } } });
    if (!progress.data) throw new Error(`signup progress answered ${progress.response.status}: ${JSON.stringify(progress.error)}`);
    if (progress.data.outcome === 'active') break;
    if (progress.data.outcome !== 'running' || Date.now() > deadline) throw new Error(`provisioning ended ${progress.data.outcome}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const session = await api.POST('/api/v1/auth/login', { body: { email, password: PASSWORD } });
  if (!session.data) throw new Error(`login answered ${session.response.status}: ${JSON.stringify(session.error)}`);

  const plan: RunPlan = { description: 'typed client', steps: [{ kind: 'records.write', key: 'typed-client', value: { from: 'openapi-fetch' } }] };
  const run = await api.POST('/api/v1/runs', {
    params: { header: { 'idempotency-key': `typed-client-${workflowId}` } },
    headers: { Authorization: `Bearer ${session.data.accessToken}` },
    body: plan,
  });
  if (!run.data) throw new Error(`run submission answered ${run.response.status}: ${JSON.stringify(run.error)}`);

  // A refusal arrives typed as a problem: the same call without credentials.
  const refused = await api.POST('/api/v1/runs', { body: plan });
  const problem = refused.error;

  console.log(
    JSON.stringify({
      tenantId,
      sessionTenantId: session.data.tenantId,
      runId: run.data.runId,
      runStatus: run.response.status,
      location: run.response.headers.get('location'),
      refused: { status: refused.response.status, title: problem?.title },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
