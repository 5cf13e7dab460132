export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __controlPlaneTestStops?: Array<() => Promise<void>> }).__controlPlaneTestStops ?? [];
  for (const stop of stops.reverse()) await stop();
}
