import { filter, map, tap } from 'rxjs';
import type { Observable } from 'rxjs';
import type { EventBatch, PodtraceEvent } from '../events/event';
import type { PodEnricher } from '../enrich/pod-enricher';
import type { Enricher } from '../pipeline/stages';
import type { PodKernelScope } from './pod-kernel-scope';

/**
 * Keeps only one pod's events, after enrichment: an event belongs to the pod when its cgroup was
 * attributed to the pod's uid (an OOM kill by its victim's cgroup), so containers that start later
 * (a restart, an ephemeral container) are in scope without a new lookup. Optionally one container.
 *
 * With a PodKernelScope the kernel already produces only the pod's cgroups' records (this stage
 * feeds it the batches' cgroup creations); this filter stays as the exact check (and is the only
 * one without the in-kernel scope). Counted: `kept`, and `unattributed` (events whose cgroup could
 * not be resolved, which might have been the pod's).
 */
export class PodScope implements Enricher {
  readonly name = 'pod-scope';
  kept = 0;
  unattributed = 0;

  constructor(
    private readonly inner: PodEnricher,
    private readonly podUid: string,
    private readonly container: string | null,
    private readonly kernel: PodKernelScope | null = null,
  ) {}

  start(): Promise<void> {
    return this.inner.start();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private inScope(e: PodtraceEvent): boolean {
    const m = e.meta;
    if (m === null || e.enrichment === 'none') {
      this.unattributed++;
      return false;
    }
    if (m.podUid !== this.podUid) return false;
    return this.container === null || m.containerName === this.container;
  }

  attach(input$: Observable<EventBatch>): Observable<EventBatch> {
    const kernel = this.kernel;
    const fed =
      kernel === null
        ? input$
        : input$.pipe(
            tap((b) => {
              if (b.cgroups !== undefined) kernel.onChanges(b.cgroups);
            }),
          );
    return this.inner.attach(fed).pipe(
      map((b) => {
        const events = b.events.filter((e) => this.inScope(e));
        this.kept += events.length;
        return { events };
      }),
      filter((b) => b.events.length > 0),
    );
  }
}
