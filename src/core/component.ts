/**
 * The lifecycle every source, enricher and sink shares (after the OpenTelemetry Collector):
 * - `start()` returns quickly; background work owns its own cancellation;
 * - `shutdown()` is idempotent, safe without `start()`, stops intake and flushes what it holds.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Readiness as reported on /readyz. */
export interface ReadinessProbe {
  ready(): { ready: boolean; detail: string };
}

/**
 * Makes `shutdown()` idempotent: the first call runs `fn`, later calls get the same promise.
 */
export function onceShutdown(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
