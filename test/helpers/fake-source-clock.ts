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
