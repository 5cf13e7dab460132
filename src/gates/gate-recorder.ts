import type { GateDecision } from '../domain/gate-decision';
import type { EventSink } from '../observability/event-sink';
import type { Metrics } from '../observability/metrics';

/**
 * Where a decision was taken and about whom. The boundary is a fixed name (`login`, `run_authorize`, a route
 * template), so it is also a metric label; the tenant is for the log event and the watch lists only, never a label.
 */
export interface GateContext {
  boundary: string;
  tenantId?: string;
  /** The run a worker-side decision is about. */
  runId?: string;
}

/** What the recorder logs through: pino in the API, the activity's logger in the worker. */
export interface GateLog {
  debug(event: object, message: string): void;
  info(event: object, message: string): void;
}

/**
 * Every gate decision becomes one log event and one count, wherever it is taken (API or worker). Refusals log at info
 * so an operator sees why a client was turned away, and are stored for the operators' watch lists; allows log at debug
 * and are only counted, because they are every request: a read must not cost a write.
 */
export function createGateRecorder(deps: { logger: GateLog; metrics: Metrics; events?: EventSink }) {
  return {
    record(decision: GateDecision, context: GateContext): GateDecision {
      deps.metrics.gateDecisions.inc({ gate: decision.gate, outcome: decision.outcome, boundary: context.boundary });
      const event = { event: 'gate_decision', ...decision, ...context };
      if (decision.allowed) deps.logger.debug(event, 'gate allowed');
      else deps.logger.info(event, `gate ${decision.gate} ${decision.outcome}: ${decision.reason}`);
      if (decision.allowed) return decision;
      // Already logged above at the right level; the sink only stores it for the operators' watch lists.
      deps.events?.emit({ type: `gate.${decision.outcome}`, tenantId: context.tenantId, runId: context.runId, data: { ...decision, boundary: context.boundary } }, { log: false });
      return decision;
    },
  };
}

export type GateRecorder = ReturnType<typeof createGateRecorder>;
