import type { GateDecision } from '../domain/gate-decision';
import { Problem } from './problem';

const TITLES: Record<GateDecision['gate'], string> = {
  lifecycle: 'Refused by tenant lifecycle',
  protection: 'Refused by abuse protection',
  billing: 'Refused by billing plan',
  kill_switch: 'Refused by kill switch',
  governance: 'Refused by governance',
  verification: 'Email not verified',
};

/**
 * The one translation of a refusal into problem+json naming gate and reason: a throttle is 429 with Retry-After
 * (waiting helps); a kill switch is 503 (the deployment is off, not the caller wrong); any other block is 403.
 */
export function gateProblem(decision: GateDecision): Problem {
  if (decision.allowed) throw new Error('gateProblem called with an allowed decision');
  const extra = { gate: decision.gate, outcome: decision.outcome, reason: decision.reason };
  if (decision.outcome === 'throttle') {
    const retryAfter = Math.max(1, Math.ceil(decision.retryAfterSeconds ?? 1));
    return new Problem(429, 'Too many requests', `${decision.gate}: ${decision.reason}`, { ...extra, retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }
  const status = decision.gate === 'kill_switch' ? 503 : 403;
  return new Problem(status, TITLES[decision.gate], `${decision.gate}: ${decision.reason}`, extra);
}
