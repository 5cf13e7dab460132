import { randomBytes } from 'node:crypto';
import { log } from '@temporalio/activity';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type InjectedSinks, type WorkflowBundleOption } from '@temporalio/worker';
import { createAccountMailActivities, type AccountMailDependencies } from '../activities/account-mail';
import { createBillingActivities } from '../activities/billing';
import { createEmailVerificationActivities } from '../activities/email-verification';
import { createInvitationActivities } from '../activities/invitations';
import { createSignupNoticeActivities } from '../activities/signup-notice';
import { createPasswordResetActivities } from '../activities/password-reset';
import { workerExecutionGates } from '../activities/execution-gates';
import { createLifecycleActivities } from '../activities/lifecycle';
import { createLifecycleSupervisorActivities } from '../activities/lifecycle-supervisor';
import { createRunReservationActivities } from '../activities/run-reservations';
import { createOffboardingActivities } from '../activities/offboarding';
import { createProvisioningActivities } from '../activities/provisioning';
import { createRunActivities } from '../activities/run';
import { createRunReconcilerActivities } from '../activities/run-reconciler';
import { createRunStepActivities } from '../activities/run-steps';
import type { ControlPlaneSinks } from '../src/contracts/sinks';
import type { Orm } from '../src/db/orm';
import { createGateRecorder, type GateLog } from '../src/gates/gate-recorder';
import type { KillSwitches } from '../src/gates/kill-switch-gate';
import type { EventSink } from '../src/observability/event-sink';
import type { Metrics } from '../src/observability/metrics';
import { unconfiguredMailer } from '../src/mail/mailer';
import { databaseFailureInterceptor } from './database-failure-interceptor';

export interface ControlPlaneWorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  orm: Orm;
  metrics: Metrics;
  events: EventSink;
  /** Environment kill switches; all off when not given. */
  killSwitches?: KillSwitches;
  /** A prebuilt bundle (tests reuse one); otherwise the worker bundles `workflows/` at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Test workers add fault injection here (tools/fixtures/activity-faults.ts), inside the product's own interceptors. */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** How account mails go out (src/mail/from-config.ts); without it every mail is recorded undelivered. */
  mail?: AccountMailDependencies;
}

const NO_KILL_SWITCHES: KillSwitches = { disableSignup: false, disableRunExecution: false, readOnlyMode: false };

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Gate decisions taken in an activity log through the activity's logger, which names the workflow and activity. */
const activityGateLog: GateLog = {
  debug: (event, message) => log.debug(message, { ...event }),
  info: (event, message) => log.info(message, { ...event }),
};

/** A worker given no mail settings records every mail undelivered (and its links work only on this process's secret). */
const NO_MAIL: AccountMailDependencies = {
  mailer: unconfiguredMailer,
  branding: { productName: 'Control Plane', appBaseUrl: 'http://127.0.0.1:3000' },
  linkSecret: randomBytes(32).toString('base64url'),
};

export function controlPlaneActivities(deps: Pick<ControlPlaneWorkerDependencies, 'orm' | 'killSwitches' | 'mail'> & { metrics?: Metrics; events?: EventSink; client: Client }) {
  const killSwitches = deps.killSwitches ?? NO_KILL_SWITCHES;
  const mail = deps.mail ?? NO_MAIL;
  // The worker's gate decisions go through the API's recorder: the same metric, log event and watch lists.
  const gates = deps.metrics ? createGateRecorder({ logger: activityGateLog, metrics: deps.metrics, events: deps.events }) : undefined;
  return {
    ...createProvisioningActivities({ orm: deps.orm }),
    ...createLifecycleActivities({ orm: deps.orm }),
    ...createOffboardingActivities({ orm: deps.orm, client: deps.client }),
    ...createBillingActivities({ orm: deps.orm }),
    ...createRunActivities({ orm: deps.orm, killSwitches, executionGates: workerExecutionGates(killSwitches), gates }),
    ...createRunStepActivities({ orm: deps.orm, killSwitches, gates }),
    ...createRunReconcilerActivities({ orm: deps.orm, metrics: deps.metrics }),
    ...createLifecycleSupervisorActivities({ orm: deps.orm, client: deps.client, metrics: deps.metrics }),
    ...createAccountMailActivities({ orm: deps.orm, metrics: deps.metrics }),
    ...createEmailVerificationActivities({ orm: deps.orm, mail, client: deps.client, metrics: deps.metrics }),
    ...createPasswordResetActivities({ orm: deps.orm, mail, metrics: deps.metrics }),
    ...createInvitationActivities({ orm: deps.orm, mail, metrics: deps.metrics }),
    ...createSignupNoticeActivities({ orm: deps.orm, mail, metrics: deps.metrics }),
    ...createRunReservationActivities({ orm: deps.orm, client: deps.client, metrics: deps.metrics }),
  };
}

function observabilitySinks(metrics: Metrics, events: EventSink): InjectedSinks<ControlPlaneSinks> {
  return {
    events: {
      emit: {
        fn: (info, event) => events.emit({ ...event, workflowId: info.workflowId }),
        callDuringReplay: false,
      },
    },
    metrics: {
      provisioningFinished: {
        fn: (_info, outcome, durationSeconds) => {
          metrics.provisions.inc({ outcome });
          metrics.provisioningDuration.observe({ outcome }, durationSeconds);
        },
        callDuringReplay: false,
      },
      runFinished: {
        fn: (_info, outcome, durationSeconds) => {
          metrics.runs.inc({ outcome });
          metrics.runDuration.observe({ outcome }, durationSeconds);
        },
        callDuringReplay: false,
      },
      lifecycleTransition: {
        fn: (_info, from, to) => metrics.lifecycleTransitions.inc({ from, to }),
        callDuringReplay: false,
      },
    },
  };
}

/** One worker polls the control plane's task queue for every workflow and activity of the product. */
export function createControlPlaneWorker(deps: ControlPlaneWorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    // Offboarding reaches the tenant's runs through Temporal: a client on the worker's own connection.
    activities: controlPlaneActivities({ ...deps, client: new Client({ connection: deps.connection, namespace: deps.namespace }) }),
    sinks: observabilitySinks(deps.metrics, deps.events),
    interceptors: { activity: [databaseFailureInterceptor, ...(deps.activityInterceptors ?? [])] },
  });
}
