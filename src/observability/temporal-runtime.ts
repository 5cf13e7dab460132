import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from './logger';

const SDK_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' };
// The SDK's INFO lines (bundler output, worker state changes) would drown the service's own; they start at WARN.
const SDK_FLOOR: LogLevel = 'WARN';

/**
 * Installs the Temporal SDK runtime once per process: its logs go through our pino logger as JSON, and its worker
 * metrics (task slots, poll latency, schedule-to-start, sticky cache) are exported in Prometheus format on
 * `metricsAddress`, which the API's /metrics appends to its own.
 */
export function installTemporalRuntime(logger: Logger, metricsAddress: string | undefined): void {
  const wanted = SDK_LEVEL[logger.level] ?? 'INFO';
  const level = ['TRACE', 'DEBUG'].includes(wanted) ? wanted : SDK_FLOOR;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const method = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : entry.level === 'INFO' ? 'info' : 'debug';
      logger[method]({ component: 'temporal-sdk', ...entry.meta }, entry.message);
    }),
    telemetryOptions: metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } : undefined,
  });
}

/** The SDK exporter's text, or nothing when it does not answer in time: /metrics must never hang on it. */
export async function temporalWorkerMetrics(metricsAddress: string, timeoutMs = 500): Promise<string> {
  try {
    const response = await fetch(`http://${metricsAddress}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}
