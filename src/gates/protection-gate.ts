import { allow, block, throttle, type GateDecision } from '../domain/gate-decision';
import type { Limits } from '../domain/limits';

/** What the runs store reports for one tenant at the moment of a decision (supplied by the runs repository). */
export interface RunCounts {
  startedLastMinute: number;
  startedLastDay: number;
  inFlight: number;
}

export interface RunCountsReader {
  runCounts(tenantId: string, now: Date): Promise<RunCounts>;
}

/** Platform abuse ceilings, the same for every tenant whatever it pays (config). */
export interface PlatformCeilings {
  burstPerMinute: number;
  runsPerDay: number;
  concurrentRuns: number;
}

/** The ceilings one tenant is held to: the tighter of its plan and the platform's. */
export interface RunCeilings {
  burstPerMinute: number;
  runsPerDay: number;
  concurrentRuns: number;
}

export function runCeilings(limits: Limits, platform: PlatformCeilings): RunCeilings {
  return {
    burstPerMinute: platform.burstPerMinute,
    runsPerDay: Math.min(limits.runsPerDay, platform.runsPerDay),
    concurrentRuns: Math.min(limits.concurrentRuns, platform.concurrentRuns),
  };
}

/** A run finishing frees a concurrency slot; this is the hint, not a promise. */
const CONCURRENCY_RETRY_SECONDS = 5;
const SECONDS_PER_MINUTE = 60;
/** The daily window slides; an hour is a safe hint without the start time of the oldest run in it. */
const DAILY_RETRY_SECONDS = 60 * 60;

export interface ProtectionInput {
  counts: RunCounts;
  ceilings: RunCeilings;
}

/**
 * Every protection check for one more run, in order of how soon it clears: a zero ceiling blocks (waiting cannot
 * help), a reached one throttles with a Retry-After hint.
 */
export function checkAll(input: ProtectionInput): GateDecision {
  const { counts, ceilings } = input;
  if (ceilings.concurrentRuns <= 0 || ceilings.runsPerDay <= 0 || ceilings.burstPerMinute <= 0) {
    return block('protection', 'no runs are allowed for this tenant');
  }
  if (counts.inFlight >= ceilings.concurrentRuns) {
    return throttle('protection', `concurrent run limit of ${ceilings.concurrentRuns} reached`, CONCURRENCY_RETRY_SECONDS);
  }
  if (counts.startedLastMinute >= ceilings.burstPerMinute) {
    return throttle('protection', `burst limit of ${ceilings.burstPerMinute} runs per minute reached`, SECONDS_PER_MINUTE);
  }
  if (counts.startedLastDay >= ceilings.runsPerDay) {
    return throttle('protection', `daily run limit of ${ceilings.runsPerDay} reached`, DAILY_RETRY_SECONDS);
  }
  return allow('protection');
}
