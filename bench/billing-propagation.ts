/**
 * `npm run bench:billing`: billing propagation delay. An operator changes a tenant's subscription state through the
 * admin API; the clock stops when the tenant's own view of its limits (the same source the gates read) shows it.
 * Measured in the process that took the change (the cache is invalidated there) and bounded for every other API
 * process by BILLING_CACHE_TTL_SECONDS, which is printed beside it.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../src/auth/password-hash';
import { createActiveTenant } from '../tools/fixtures/runs';
import { percentile, startBenchStack } from './stack';

const OPERATOR = `bench:founder:${randomBytes(24).toString('hex')}`;
const PASSWORD = 'Bench-password-1234';

async function main() {
  const stack = await startBenchStack({ OPERATOR_TOKENS: OPERATOR });
  const url = stack.controlPlane.url!;
  const operator = { authorization: `Bearer ${OPERATOR.split(':')[2]}`, 'content-type': 'application/json' };
  try {
    const tenant = await createActiveTenant(stack.controlPlane.orm, { passwordHash: await hashPassword(PASSWORD) });
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: tenant.ownerEmail, password: PASSWORD }) });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const limits = async () => {
      const response = await fetch(`${url}/api/v1/tenants/${tenant.tenantId}/limits`, { headers: { authorization: `Bearer ${accessToken}` } });
      return ((await response.json()) as { subscriptionState: string }).subscriptionState;
    };
    await limits(); // Warm the cache, so each measurement has a stale entry to replace.

    const delays: number[] = [];
    const states = ['active', 'grace', 'active', 'expired'];
    for (let index = 0; index < stack.config.BENCH_N; index += 1) {
      const target = states[index % states.length]!;
      const started = performance.now();
      const change = await fetch(`${url}/api/v1/admin/tenants/${tenant.tenantId}/billing-state`, { method: 'PUT', headers: operator, body: JSON.stringify({ subscriptionState: target, reason: 'bench' }) });
      if (change.status !== 200) throw new Error(`billing-state answered ${change.status}`);
      while ((await limits()) !== target) await new Promise((resolve) => setTimeout(resolve, 5));
      delays.push(performance.now() - started);
    }
    console.log(`\nbilling propagation, ${delays.length} changes, one API process`);
    console.log(`  change to visible: p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${percentile(delays, 0.99).toFixed(1)} ms`);
    console.log(`  other API processes: at most BILLING_CACHE_TTL_SECONDS = ${stack.config.BILLING_CACHE_TTL_SECONDS} s after the change`);
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
