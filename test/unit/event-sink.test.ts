import { EventSink, type EventStore } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

const logger = createLogger('silent');
const droppedCount = async (metrics: ReturnType<typeof createMetrics>, reason: string) =>
  (await metrics.eventsDropped.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;

describe('EventSink', () => {
  it('writes buffered events to the store in batches', async () => {
    const written: string[] = [];
    const store: EventStore = { append: async (events) => void written.push(...events.map((event) => event.type)) };
    const metrics = createMetrics();
    const sink = new EventSink({ store, logger, metrics, batchSize: 2, flushIntervalMs: 10_000 });
    for (const type of ['a', 'b', 'c']) sink.emit({ type });
    await sink.close();
    expect(written).toEqual(['a', 'b', 'c']);
    expect((await metrics.eventsWritten.get()).values[0]?.value).toBe(3);
  });

  it('never throws to the caller and counts the loss when the store throws', async () => {
    const store: EventStore = {
      append: () => {
        throw new Error('store exploded');
      },
    };
    const metrics = createMetrics();
    const sink = new EventSink({ store, logger, metrics, flushIntervalMs: 10_000 });
    expect(() => sink.emit({ type: 'tenant.suspended' })).not.toThrow();
    await sink.close();
    expect(await droppedCount(metrics, 'write_failed')).toBe(1);
  });

  it('does not wait for a store that hangs: emit returns at once and the batch is dropped after the timeout', async () => {
    const store: EventStore = { append: () => new Promise(() => undefined) };
    const metrics = createMetrics();
    const sink = new EventSink({ store, logger, metrics, writeTimeoutMs: 50, flushIntervalMs: 10_000 });
    const started = performance.now();
    for (let index = 0; index < 100; index += 1) sink.emit({ type: 'run.phase_changed' });
    expect(performance.now() - started).toBeLessThan(1_000);
    await sink.close();
    expect(await droppedCount(metrics, 'write_timeout')).toBe(100);
  });

  it('bounds its buffer: past capacity new events are dropped and counted', async () => {
    const store: EventStore = { append: () => new Promise(() => undefined) };
    const metrics = createMetrics();
    const sink = new EventSink({ store, logger, metrics, capacity: 5, batchSize: 1_000, flushIntervalMs: 10_000, writeTimeoutMs: 10 });
    for (let index = 0; index < 8; index += 1) sink.emit({ type: 'gate.decided' });
    expect(sink.pending).toBe(5);
    expect(await droppedCount(metrics, 'buffer_full')).toBe(3);
    await sink.close();
  });
});
