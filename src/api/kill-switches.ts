import type { RequestHandler } from 'express';
import type { GateRecorder } from '../gates/gate-recorder';
import { readOnlySwitchDecision, signupSwitchDecision, type KillSwitches } from '../gates/kill-switch-gate';
import { authenticationOf } from './auth/authentication';
import { gateProblem } from './gate-problem';

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
