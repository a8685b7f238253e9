import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event';
import type { WorkloadMeta } from '../../src/events/workload-meta';
import type { Enricher } from '../../src/pipeline/stages';

/**
 * The enrichment stand-in for benchmarks: a warm cache (cgroup id → frozen WorkloadMeta), one Map
 * lookup per event, the shared meta object attached by reference. Replace with the real enricher
 * (src/enrich) once it is merged, fed by the same synthetic workloads.
 */
export class StaticEnricher implements Enricher {
  readonly name = 'static-enricher';

  constructor(private readonly metaByCgroup: ReadonlyMap<number, WorkloadMeta>) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  attach(input$: Observable<EventBatch>): Observable<EventBatch> {
    const cache = this.metaByCgroup;
    return input$.pipe(
      map((batch) => {
        for (const e of batch.events) {
          const m = cache.get(e.cgroupId);
          if (m === undefined) {
            e.meta = null;
            e.enrichment = 'none';
          } else {
            e.meta = m;
            e.enrichment = 'complete';
          }
        }
        return batch;
      }),
    );
  }
}
