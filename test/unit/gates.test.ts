import pino from 'pino';
import { Writable } from 'node:stream';
import { gateProblem } from '../../src/api/gate-problem';
import { allow, block, throttle } from '../../src/domain/gate-decision';
import { createGateRecorder } from '../../src/gates/gate-recorder';
import { readOnlySwitchDecision, runExecutionSwitchDecision, signupSwitchDecision, type KillSwitches } from '../../src/gates/kill-switch-gate';
import { createMetrics } from '../../src/observability/metrics';

const switches = (overrides: Partial<KillSwitches> = {}): KillSwitches => ({ disableSignup: false, disableRunExecution: false, readOnlyMode: false, ...overrides });

describe('gate problems', () => {
  it('turn a throttle into 429 with Retry-After, naming gate and reason', () => {
    const problem = gateProblem(throttle('protection', 'burst limit reached', 12.2));
    expect(problem.status).toBe(429);
    expect(problem.headers).toEqual({ 'Retry-After': '13' });
    expect(problem.extra).toEqual({ gate: 'protection', outcome: 'throttle', reason: 'burst limit reached', retryAfterSeconds: 13 });
  });

  it('turn a block into 403, and a kill switch block into 503', () => {
    expect(gateProblem(block('lifecycle', 'tenant is suspended')).status).toBe(403);
    expect(gateProblem(block('billing', 'no runs')).status).toBe(403);
    expect(gateProblem(block('kill_switch', 'signup is disabled')).status).toBe(503);
    expect(gateProblem(block('lifecycle', 'tenant is suspended')).detail).toBe('lifecycle: tenant is suspended');
  });

  it('refuse to turn an allow into a problem', () => {
    expect(() => gateProblem(allow('lifecycle'))).toThrow();
  });
});

describe('gate recorder', () => {
  it('logs every decision as an event and counts it by gate, outcome and boundary only', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => { lines.push(chunk.toString()); done(); } });
    const metrics = createMetrics();
    const recorder = createGateRecorder({ logger: pino({ level: 'debug' }, sink), metrics });
    recorder.record(block('lifecycle', 'tenant is suspended'), { boundary: 'token_refresh', tenantId: 't-1' });
    recorder.record(allow('protection'), { boundary: 'run_submission', tenantId: 't-1' });
    const events = lines.map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ event: 'gate_decision', gate: 'lifecycle', outcome: 'block', allowed: false, reason: 'tenant is suspended', boundary: 'token_refresh', tenantId: 't-1', level: 30 });
    expect(events[1]).toMatchObject({ event: 'gate_decision', gate: 'protection', outcome: 'allow', level: 20 });
    const exposition = await metrics.registry.getSingleMetricAsString('gate_decisions_total');
    expect(exposition).toContain('gate_decisions_total{gate="lifecycle",outcome="block",boundary="token_refresh"} 1');
    expect(exposition).toContain('gate_decisions_total{gate="protection",outcome="allow",boundary="run_submission"} 1');
    expect(exposition).not.toContain('t-1');
  });
});

describe('kill switch decisions', () => {
  it.each([true, false])('signup with DISABLE_SIGNUP=%s', (on) => {
    expect(signupSwitchDecision(switches({ disableSignup: on })).allowed).toBe(!on);
  });

  it.each([true, false])('run execution with DISABLE_RUN_EXECUTION=%s', (on) => {
    expect(runExecutionSwitchDecision(switches({ disableRunExecution: on })).allowed).toBe(!on);
  });

  it('read-only mode refuses changes except safe methods and operators', () => {
    const on = switches({ readOnlyMode: true });
    expect(readOnlySwitchDecision(on, { method: 'POST', byOperator: false }).allowed).toBe(false);
    expect(readOnlySwitchDecision(on, { method: 'DELETE', byOperator: false }).allowed).toBe(false);
    expect(readOnlySwitchDecision(on, { method: 'GET', byOperator: false }).allowed).toBe(true);
    expect(readOnlySwitchDecision(on, { method: 'PUT', byOperator: true }).allowed).toBe(true);
    expect(readOnlySwitchDecision(switches(), { method: 'POST', byOperator: false }).allowed).toBe(true);
  });
});
