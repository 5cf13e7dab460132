/** The one shape every execution-boundary gate answers with: data, so it can be logged, counted and shown. */
export const GATES = ['lifecycle', 'protection', 'billing', 'kill_switch', 'governance', 'verification'] as const;
export type Gate = (typeof GATES)[number];

export type GateOutcome = 'allow' | 'throttle' | 'block';

export interface GateDecision {
  allowed: boolean;
  gate: Gate;
  outcome: GateOutcome;
  reason: string;
  /** Set with `throttle`: when the caller may try again. */
  retryAfterSeconds?: number;
}

export const allow = (gate: Gate, reason = 'allowed'): GateDecision => ({ allowed: true, gate, outcome: 'allow', reason });
export const block = (gate: Gate, reason: string): GateDecision => ({ allowed: false, gate, outcome: 'block', reason });
export const throttle = (gate: Gate, reason: string, retryAfterSeconds: number): GateDecision => ({
  allowed: false,
  gate,
  outcome: 'throttle',
  reason,
  retryAfterSeconds,
});

/** The first refusal among decisions taken in order, or an allow when every gate allows. */
export function firstRefusal(decisions: GateDecision[]): GateDecision | undefined {
  return decisions.find((decision) => !decision.allowed);
}
