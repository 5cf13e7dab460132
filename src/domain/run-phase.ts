/**
 * The phases of a run, in the one order the kernel walks them. GOVERNANCE_CHECK sits before FINALIZING on every path;
 * the only edge that skips it (EXECUTING → FINALIZING) is taken by an audited operator force-complete.
 * docs/runs.md explains every edge.
 */
export const RUN_PHASES = ['CREATED', 'AUTHORIZED', 'EXECUTING', 'GOVERNANCE_CHECK', 'FINALIZING', 'COMPLETED', 'FAILED'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/** Every phase a run may move to from each phase. FINALIZING has no FAILED edge: finalisation is retried until it commits. */
export const RUN_PHASE_EDGES: Record<RunPhase, readonly RunPhase[]> = {
  CREATED: ['AUTHORIZED', 'FAILED'],
  AUTHORIZED: ['EXECUTING', 'FAILED'],
  EXECUTING: ['GOVERNANCE_CHECK', 'FINALIZING', 'FAILED'],
  GOVERNANCE_CHECK: ['FINALIZING', 'FAILED'],
  FINALIZING: ['COMPLETED'],
  COMPLETED: [],
  FAILED: [],
};

export const canEnterPhase = (from: RunPhase, to: RunPhase): boolean => RUN_PHASE_EDGES[from].includes(to);

/** The phases a guarded UPDATE may move a run out of to reach `to`: the inverse of the edge table. */
export const phasesLeadingTo = (to: RunPhase): RunPhase[] => RUN_PHASES.filter((from) => canEnterPhase(from, to));

/** Phases in which an operator may still terminate or force-complete a run: not once it finalises or has ended. */
export const OPERATOR_INTERRUPTIBLE_PHASES: readonly RunPhase[] = ['CREATED', 'AUTHORIZED', 'EXECUTING', 'GOVERNANCE_CHECK'];
