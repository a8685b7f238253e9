import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event';
import type { SourceClock } from '../../src/sources/source-clock';

/** A SourceClock whose time only moves when the code under test sleeps (or the test says so). */
export class FakeSourceClock implements SourceClock {
  t = 0;
  readonly sleeps: number[] = [];

  now(): number {
    return this.t;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
    await Promise.resolve();
  }

  async yield(): Promise<void> {
    await Promise.resolve();
  }

  advance(ms: number): void {
    this.t += ms;
  }
}

/** A source's running event count, sampled with the fake time as each batch leaves. */
export class EmissionLog {
  readonly seen: { at: number; total: number }[] = [];
  total = 0;

  constructor(source: { batches$: Observable<EventBatch> }, clock: SourceClock) {
    source.batches$.subscribe((b) => {
      this.total += b.events.length;
      this.seen.push({ at: clock.now(), total: this.total });
    });
  }
}
