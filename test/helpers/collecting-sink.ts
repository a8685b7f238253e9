import type { EventBatch, PodtraceEvent } from '../../src/events/event';
import type { Sink } from '../../src/pipeline/stages';

/** A sink that keeps every event it is given, for end-to-end assertions. */
export class CollectingSink implements Sink {
  readonly name = 'collect';
  readonly events: PodtraceEvent[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  consume(batch: EventBatch): void {
    this.events.push(...batch.events);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
