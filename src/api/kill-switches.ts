import type { RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { throttle } from '../domain/gate-decision';
import type { GateRecorder } from '../gates/gate-recorder';
import { readOnlySwitchDecision, signupSwitchDecision, type KillSwitches } from '../gates/kill-switch-gate';
import { authenticationOf } from './auth/authentication';
import { gateProblem } from './gate-problem';
import type { RateLimitStores } from './rate-limit-store';

const MINUTE_MS = 60_000;

/**
 * The deployment-wide ceiling: one bucket for every client, counted in Postgres so every API process draws on it, and
 * a flood cannot reach the rest of the database whoever sends it.
 */
export function globalRateLimit(switches: KillSwitches, gates: GateRecorder, stores: RateLimitStores): RequestHandler {
  if (switches.globalRateLimitPerMinute === 0) return (_request, _response, next) => next();
  return rateLimit({
    windowMs: MINUTE_MS,
    limit: switches.globalRateLimitPerMinute,
    keyGenerator: () => 'global',
    store: stores('global'),
    requestPropertyName: 'globalRateLimit',
    standardHeaders: false,
    legacyHeaders: false,
    handler: (request, _response, next) => {
      const resetAt = (request as typeof request & { globalRateLimit?: RateLimitInfo }).globalRateLimit?.resetTime?.getTime() ?? Date.now() + MINUTE_MS;
      const decision = throttle('kill_switch', `global ceiling of ${switches.globalRateLimitPerMinute} requests per minute reached`, Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
      gates.record(decision, { boundary: 'global_rate_limit' });
      next(gateProblem(decision));
    },
  });
}

/** After authentication, so operators can still repair things while everyone else only reads. */
export function readOnlyGuard(switches: KillSwitches, gates: GateRecorder): RequestHandler {
  return (request, response, next) => {
    if (!switches.readOnlyMode) return next();
    const authentication = authenticationOf(response);
    const byOperator = authentication.outcome === 'authenticated' && authentication.principal.kind === 'operator';
    const decision = gates.record(readOnlySwitchDecision(switches, { method: request.method, byOperator }), { boundary: 'read_only_mode' });
    next(decision.allowed ? undefined : gateProblem(decision));
  };
}

/** In front of signup only: while signup is disabled, progress of signups already under way can still be read. */
export function signupSwitch(switches: KillSwitches, gates: GateRecorder, onDisabled: () => void = () => {}): RequestHandler {
  return (_request, _response, next) => {
    const decision = gates.record(signupSwitchDecision(switches), { boundary: 'signup' });
    if (!decision.allowed) onDisabled();
    next(decision.allowed ? undefined : gateProblem(decision));
  };
}
