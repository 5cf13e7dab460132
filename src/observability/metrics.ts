import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of the process, on one registry. Labels are aggregates only: never a tenant id. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    signups: new Counter({
      name: 'signups_total',
      help: 'Signup requests by outcome (accepted, duplicate, conflict, invalid, rate_limited, disabled)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    provisions: new Counter({
      name: 'provisions_total',
      help: 'Finished provisioning sagas by outcome (active, failed, rollback_failed: a compensation failed for good and an operator must finish the clean-up; existing_account: the address had an account, its owner was told and nothing was created)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    provisioningDuration: new Histogram({
      name: 'provisioning_duration_seconds',
      help: 'Signup-to-outcome time of provisioning sagas',
      labelNames: ['outcome'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    eventsWritten: new Counter({
      name: 'observability_events_written_total',
      help: 'Domain events written to the events table',
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: 'observability_events_dropped_total',
      help: 'Domain events lost because the sink was full, failed or hung (the business path went on)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    mails: new Counter({
      name: 'mails_total',
      help: 'Outgoing mail by kind and outcome (sent; attempt_failed: an attempt failed and is retried; undelivered: the retries are spent and the mail is on the operators\' list; withheld: a reminder an unverified tenant may not send)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    runs: new Counter({
      name: 'runs_total',
      help: 'Finished runs by outcome (completed, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    strandedRuns: new Counter({
      name: 'run_admissions_released_total',
      help: 'Admission slots the reservation sweep freed: runs whose workflow never started, or ended outside the kernel',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'run_duration_seconds',
      help: 'Start-to-outcome time of runs, waits and approvals included',
      labelNames: ['outcome'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400],
      registers: [registry],
    }),
    auditFindings: new Counter({
      name: 'audit_findings_total',
      help: 'Run audit findings newly detected by the reconciler, by kind (missing, drift, stale)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    dependencyUnavailable: new Counter({
      name: 'http_dependency_unavailable_total',
      help: 'API requests answered 503 because a dependency was down or too slow, by class (temporal, database; timeout: the request deadline passed first)',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'API request duration by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    gateDecisions: new Counter({
      name: 'gate_decisions_total',
      help: 'Gate decisions by gate (lifecycle, protection, billing, kill_switch, governance), outcome (allow, throttle, block) and boundary (login, run_submission, run_authorize, run_step, a route template, ...)',
      labelNames: ['gate', 'outcome', 'boundary'] as const,
      registers: [registry],
    }),
    logins: new Counter({
      name: 'logins_total',
      help: 'Login attempts by outcome (success, invalid, rate_limited, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    lifecycleTransitions: new Counter({
      name: 'lifecycle_transitions_total',
      help: 'Tenant lifecycle state changes by from and to state',
      labelNames: ['from', 'to'] as const,
      registers: [registry],
    }),
    lifecycleRestarts: new Counter({
      name: 'lifecycle_workflow_restarts_total',
      help: 'Tenant lifecycle workflows the supervisor started because a tenant that is not terminated had none running',
      registers: [registry],
    }),
    billingStateReads: new Counter({
      name: 'billing_state_reads_total',
      help: 'Billing state lookups by where the answer came from (store, cache, stale_cache, fallback)',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `active_tenants`, read from Postgres at scrape time: the gauge shows the source of truth, not a count that this
 * process kept and would lose on restart. A failed read keeps the last value instead of failing the scrape.
 */
export function registerActiveTenantsGauge(metrics: Metrics, countActiveTenants: () => Promise<number>): void {
  new Gauge({
    name: 'active_tenants',
    help: 'Tenants whose lifecycle state is active',
    registers: [metrics.registry],
    async collect() {
      try {
        this.set(await countActiveTenants());
      } catch {
        // The database being down shows on /readyz; the metrics endpoint stays up.
      }
    },
  });
}

export interface RunAuditBacklogReading {
  unsettled: number;
  oldestCreatedAt: Date | null;
}

/**
 * The reconciler's backlog, read from Postgres at scrape time: how many runs are unsettled, and how old the oldest
 * is. Read at scrape, not set by the reconciler, so the age keeps growing when the reconciler stops: that is the alert.
 * Both gauges share one read per scrape; a failed read keeps the last values.
 */
export function registerRunAuditBacklogGauges(metrics: Metrics, readBacklog: () => Promise<RunAuditBacklogReading>, now: () => Date = () => new Date()): void {
  let reading: Promise<RunAuditBacklogReading> | undefined;
  const shared = () =>
    (reading ??= readBacklog().finally(() => {
      reading = undefined;
    }));
  new Gauge({
    name: 'run_audit_backlog_runs',
    help: 'Runs the audit reconciler has not settled yet (every one is examined once per sweep)',
    registers: [metrics.registry],
    async collect() {
      try {
        this.set((await shared()).unsettled);
      } catch {
        // The database being down shows on /readyz; the metrics endpoint stays up.
      }
    },
  });
  new Gauge({
    name: 'run_audit_oldest_unsettled_age_seconds',
    help: 'Age of the oldest run the audit reconciler has not settled (0 when none): it grows without bound if the reconciler stops',
    registers: [metrics.registry],
    async collect() {
      try {
        const { oldestCreatedAt } = await shared();
        this.set(oldestCreatedAt === null ? 0 : Math.max(0, (now().getTime() - oldestCreatedAt.getTime()) / 1000));
      } catch {
        // As above.
      }
    },
  });
}
