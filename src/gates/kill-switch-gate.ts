import type { Config } from '../config';
import { allow, block, type GateDecision } from '../domain/gate-decision';

/**
 * Environment-only switches: they change by redeploying with another environment, never through the API, so a
 * compromised credential cannot turn them off.
 */
export interface KillSwitches {
  disableSignup: boolean;
  disableRunExecution: boolean;
  readOnlyMode: boolean;
}

export function signupSwitchDecision(switches: KillSwitches): GateDecision {
  return switches.disableSignup ? block('kill_switch', 'signup is disabled') : allow('kill_switch');
}

/** At run submission and before every run step: running work stops, queued work waits. */
export function runExecutionSwitchDecision(switches: KillSwitches): GateDecision {
  return switches.disableRunExecution ? block('kill_switch', 'run execution is disabled') : allow('kill_switch');
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Read-only mode refuses every change except the platform operators', who may need to repair things. */
export function readOnlySwitchDecision(switches: KillSwitches, request: { method: string; byOperator: boolean }): GateDecision {
  if (!switches.readOnlyMode || SAFE_METHODS.has(request.method.toUpperCase()) || request.byOperator) return allow('kill_switch');
  return block('kill_switch', 'the service is in read-only mode');
}

export const killSwitchesFrom = (config: Pick<Config, 'DISABLE_SIGNUP' | 'DISABLE_RUN_EXECUTION' | 'READ_ONLY_MODE'>): KillSwitches => ({
  disableSignup: config.DISABLE_SIGNUP,
  disableRunExecution: config.DISABLE_RUN_EXECUTION,
  readOnlyMode: config.READ_ONLY_MODE,
});
