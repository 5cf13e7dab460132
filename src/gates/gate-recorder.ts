import type { GateDecision } from '../domain/gate-decision';
import type { EventSink } from '../observability/event-sink';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** Where a decision was taken and about whom: for the log event only, never a metric label. */
export interface GateContext {
  boundary: string;
  tenantId?: string;
}

/**
 * Every gate decision becomes one log event and one count. Refusals log at info so an operator sees why a client was
 * turned away; allows log at debug because they are every request.
 */
export function createGateRecorder(deps: { logger: Logger; metrics: Metrics; events?: EventSink }) {
  return {
    record(decision: GateDecision, context: GateContext): GateDecision {
      deps.metrics.gateDecisions.inc({ gate: decision.gate, outcome: decision.outcome });
      const event = { event: 'gate_decision', ...decision, ...context };
      if (decision.allowed) deps.logger.debug(event, 'gate allowed');
      else deps.logger.info(event, `gate ${decision.gate} ${decision.outcome}: ${decision.reason}`);
      // Already logged above at the right level; the sink only stores it for the operators' watch lists.
      deps.events?.emit({ type: `gate.${decision.outcome}`, tenantId: context.tenantId, data: { ...decision, boundary: context.boundary } }, { log: false });
      return decision;
    },
  };
}

export type GateRecorder = ReturnType<typeof createGateRecorder>;
