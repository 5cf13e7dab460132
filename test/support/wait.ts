/** Polls a condition until it holds or the deadline passes; never a blind sleep. */
export async function waitFor(condition: () => Promise<boolean> | boolean, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  throw new Error(`condition not met in time${lastError ? `: ${String(lastError)}` : ''}`);
}
