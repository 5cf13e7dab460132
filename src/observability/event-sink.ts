import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** One structured fact about something that happened: a transition, a decision, a step, an override. */
export interface DomainEvent {
  type: string;
  tenantId?: string | null;
  runId?: string | null;
  workflowId?: string | null;
  actor?: string | null;
  data?: Record<string, unknown>;
  at?: Date;
}

export interface EventStore {
  append(events: Array<DomainEvent & { at: Date }>): Promise<void>;
}

export interface EventSinkOptions {
  store: EventStore;
  logger: Logger;
  metrics: Metrics;
  /** Events held in memory at most; past it new events are dropped and counted, never queued without bound. */
  capacity?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  /** A write that has not answered by then is abandoned and its batch counted as dropped. */
  writeTimeoutMs?: number;
}

/**
 * Non-blocking event sink. `emit` is synchronous and never throws: it logs the event and queues it. A background loop
 * writes batches to the store; when the store fails or hangs, the batch is dropped and counted
 * (`observability_events_dropped_total`) and the business path never waits.
 */
export class EventSink {
  private readonly buffer: Array<DomainEvent & { at: Date }> = [];
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly writeTimeoutMs: number;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: EventSinkOptions) {
    this.capacity = options.capacity ?? 10_000;
    this.batchSize = options.batchSize ?? 200;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 2_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  /** Queues one event; `log: false` when the caller has already logged it at the level it wants. */
  emit(event: DomainEvent, options: { log?: boolean } = {}): void {
    try {
      const stamped = { ...event, at: event.at ?? new Date() };
      if (options.log !== false) this.options.logger.info({ event: stamped }, stamped.type);
      if (this.closed || this.buffer.length >= this.capacity) {
        this.options.metrics.eventsDropped.inc({ reason: this.closed ? 'closed' : 'buffer_full' });
        return;
      }
      this.buffer.push(stamped);
      if (this.buffer.length >= this.batchSize) void this.flush();
    } catch {
      // Observability must never fail the caller.
      this.options.metrics.eventsDropped.inc({ reason: 'emit_failed' });
    }
  }

  /** Writes what is buffered, one batch at a time; concurrent calls share the one flush in progress. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops accepting events and writes what remains, giving up after the write timeout per batch. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      const outcome = await this.writeWithTimeout(batch);
      if (outcome === 'written') this.options.metrics.eventsWritten.inc(batch.length);
      else this.options.metrics.eventsDropped.inc({ reason: outcome }, batch.length);
    }
  }

  private writeWithTimeout(batch: Array<DomainEvent & { at: Date }>): Promise<'written' | 'write_failed' | 'write_timeout'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('write_timeout'), this.writeTimeoutMs);
      let write: Promise<void>;
      try {
        write = this.options.store.append(batch);
      } catch {
        write = Promise.reject(new Error('store threw'));
      }
      write.then(
        () => resolve('written'),
        (error: unknown) => {
          this.options.logger.warn({ err: error, events: batch.length }, 'event store write failed; events dropped');
          resolve('write_failed');
        },
      ).finally(() => clearTimeout(timer));
    });
  }
}
