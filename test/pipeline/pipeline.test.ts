import { Subject } from 'rxjs';
import { silentLogger } from '../../src/core/logger';
import type { EventBatch } from '../../src/events/event';
import { Pipeline } from '../../src/pipeline/pipeline';
import type { Sink, Source } from '../../src/pipeline/stages';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { makeEvents } from '../helpers/kafka-events';

/** A source fed by the test: `emit` pushes a batch, shutdown completes the stream. */
class FedSource implements Source {
  readonly name = 'fed';
  private readonly subject = new Subject<EventBatch>();
  readonly batches$ = this.subject.asObservable();
  start(): Promise<void> {
    return Promise.resolve();
  }
  emit(batch: EventBatch): void {
    this.subject.next(batch);
  }
  shutdown(): Promise<void> {
    this.subject.complete();
    return Promise.resolve();
  }
}

class ThrowingSink implements Sink {
  readonly name = 'broken';
  deadlines: (number | undefined)[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  consume(): void {
    throw new TypeError('encoder bug');
  }
  shutdown(deadlineAt?: number): Promise<void> {
    this.deadlines.push(deadlineAt);
    return Promise.reject(new Error('flush failed too'));
  }
}

describe('Pipeline', () => {
  describe('.consume isolation', () => {
    it('keeps feeding the other sinks when one throws, counting what the broken sink lost', async () => {
      const metrics = new Metrics();
      const source = new FedSource();
      const broken = new ThrowingSink();
      const good = new CollectingSink();
      const pipeline = new Pipeline(source, null, [broken, good], silentLogger(), metrics);
      await pipeline.start();
      const events = makeEvents(30);
      for (let i = 0; i < 30; i += 10) source.emit({ events: events.slice(i, i + 10) });
      const deadline = Date.now() + 1000;
      await pipeline.shutdown(deadline);
      expect(good.events).toHaveLength(30);
      expect(await metrics.droppedCount('broken', 'consume_error')).toBe(30);
      // The failing shutdown of one sink does not fail the pipeline's; every sink gets the one deadline.
      expect(broken.deadlines).toEqual([deadline]);
    });
  });
});
