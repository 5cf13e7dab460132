import { condition } from '@temporalio/workflow';

/** What a lifecycle needs of its lock: `async-mutex`'s Mutex has this shape. */
export interface TransitionLock {
  runExclusive<T>(work: () => Promise<T> | T): Promise<T>;
  waitForUnlock(): Promise<void>;
}

/**
 * The lock lifecycle workflows started before the patch `lifecycle-safe-message-handlers` used, kept so they replay.
 * A waiter wakes on a condition, after the holder's update has completed; Mutex wakes it at once, which orders the
 * commands differently. Remove once no such workflow is open (docs/architecture.md, "Patches").
 */
export class LegacyTransitionLock implements TransitionLock {
  private busy = false;

  async runExclusive<T>(work: () => Promise<T> | T): Promise<T> {
    // Awaited even when free, as the old code did: that await is part of the order its commands were recorded in.
    await this.acquire();
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private async acquire(): Promise<void> {
    // Takes the floor without yielding between the check and the claim: several waiters can wake in one activation.
    while (this.busy) await condition(() => !this.busy);
    this.busy = true;
  }

  async waitForUnlock(): Promise<void> {
    await this.runExclusive(() => undefined);
  }
}
