import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Logger } from '../core/logger';
import { errorMessage } from '../core/errors';
import type { EventBatch } from '../events/event';
import type { Metrics } from '../telemetry/metrics';
import type { Enricher, Sink, Source } from './stages';

function markUnenriched(batch: EventBatch): EventBatch {
  for (const e of batch.events) if (e.enrichment === 'pending') e.enrichment = 'none';
  return batch;
}

/**
 * sources → enrich → sinks. Consumers start first (sinks, then enrich, then the source) and
 * producers stop first (source, enrich, sinks), so nothing is fed into a stopped component and
 * every buffered batch drains into the sinks before they flush.
 */
export class Pipeline {
  private done: Promise<unknown> | undefined;
  private stopping: Promise<void> | undefined;

  /** Sinks whose consume() threw, logged once each. */
  private readonly failedSinks = new Set<string>();

  constructor(
    private readonly source: Source,
    private readonly enricher: Enricher | null,
    private readonly sinks: readonly Sink[],
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {}

  async start(): Promise<void> {
    for (const s of this.sinks) await s.start();
    if (this.enricher) await this.enricher.start();
    // Without enrichment nothing is resolved: events say so (`none`) instead of staying `pending`.
    const stream$: Observable<EventBatch> = this.enricher
      ? this.enricher.attach(this.source.batches$)
      : this.source.batches$.pipe(map(markUnenriched));
    const sinks = this.sinks;
    const flow$ = new Promise<void>((resolve, reject) => {
      stream$.subscribe({
        next: (batch) => {
          for (const s of sinks) {
            try {
              s.consume(batch);
            } catch (err) {
              this.sinkFailed(s, batch, err);
            }
          }
        },
        error: (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        complete: () => resolve(),
      });
    });
    this.done = flow$;
    await this.source.start();
  }

  /** Resolves when the stream ends (after shutdown, or when the source fails). */
  get finished(): Promise<unknown> {
    return this.done ?? Promise.resolve();
  }

  /**
   * Stops the source, drains enrichment, then lets every sink flush in parallel until
   * `deadlineAt` (ms since the epoch; default: each sink's own timeout). A sink whose shutdown
   * fails does not stop the others.
   */
  shutdown(deadlineAt?: number): Promise<void> {
    this.stopping ??= (async () => {
      await this.source.shutdown();
      if (this.enricher) await this.enricher.shutdown();
      try {
        await this.done;
      } catch (err) {
        this.logger.error({ err: errorMessage(err) }, 'pipeline ended with an error');
      }
      const results = await Promise.allSettled(this.sinks.map((s) => s.shutdown(deadlineAt)));
      results.forEach((r, i) => {
        if (r.status === 'rejected')
          this.logger.error(
            { sink: this.sinks[i]?.name, err: errorMessage(r.reason) },
            'sink shutdown failed',
          );
      });
    })();
    return this.stopping;
  }

  /** A sink that throws loses that batch (counted as `consume_error`); the other sinks and the pipeline go on. */
  private sinkFailed(sink: Sink, batch: EventBatch, err: unknown): void {
    this.metrics?.drop(sink.name, 'consume_error', batch.events.length);
    if (this.failedSinks.has(sink.name)) return;
    this.failedSinks.add(sink.name);
    this.logger.error(
      { sink: sink.name, err: errorMessage(err), events: batch.events.length },
      'sink failed to take a batch; dropped it for that sink (further failures are only counted)',
    );
  }
}
