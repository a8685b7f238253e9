import type { Observable } from 'rxjs';
import type { Component } from '../core/component';
import type { EventBatch } from '../events/event';

/**
 * A source emits decoded batches. `batches$` completes after `shutdown()` once everything the
 * source still held has been emitted.
 */
export interface Source extends Component {
  readonly batches$: Observable<EventBatch>;
}

/**
 * Enrichment is a stage: batches go in through `enrich()`, which returns an Observable of the
 * batches that come out (possibly later: events whose container is not known yet are held up to
 * a deadline). `shutdown()` releases everything it holds before completing.
 */
export interface Enricher extends Component {
  /** Connects the stage to its input; the returned stream completes after the input completes and the held events are flushed. */
  attach(input$: Observable<EventBatch>): Observable<EventBatch>;
}

/**
 * A sink takes batches without blocking the pipeline: `consume()` puts them into the sink's own
 * bounded buffer (drops counted by reason), export happens in the background, `shutdown()`
 * flushes the buffer within its deadline.
 */
export interface Sink extends Component {
  consume(batch: EventBatch): void;
  /** Flushes until `deadlineAt` (ms since the epoch; the agent's one shutdown deadline), then counts what is left. */
  shutdown(deadlineAt?: number): Promise<void>;
  /** Events it could not deliver by the shutdown deadline (counted as dropped), for the exit summary. */
  readonly undeliveredAtShutdown?: number;
  /** Events its disk queue keeps for the next start (`queue.storage: disk`), for the exit summary. */
  readonly keptOnDisk?: number;
}
