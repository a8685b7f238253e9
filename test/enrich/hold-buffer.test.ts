import { HoldBuffer } from '../../src/enrich/hold-buffer';
import type { HoldHooks } from '../../src/enrich/hold-buffer';

interface Item {
  id: number;
  readyAt: number;
}

/** A buffer over items that become ready at `readyAt` on a clock the test moves. */
function buffer(capacity: number, over: Partial<HoldHooks<Item>> = {}) {
  const clock = { now: 0 };
  const released: number[][] = [];
  const waited: number[] = [];
  const overflowed: number[] = [];
  const settled: number[] = [];
  let ticks = 0;
  const hold = new HoldBuffer<Item>(capacity, 25, {
    now: () => clock.now,
    ready: (item, now) => now >= item.readyAt,
    release: (items) => released.push(items.map((i) => i.id)),
    waiting: (item) => waited.push(item.id),
    overflow: (item) => overflowed.push(item.id),
    tick: () => ticks++,
    settled: (n) => settled.push(n),
    ...over,
  });
  return { hold, clock, released, waited, overflowed, settled, ticks: () => ticks };
}

describe('HoldBuffer', () => {
  afterEach(() => jest.useRealTimers());

  describe('.release', () => {
    it('releases the ready items in arrival order and keeps the others, asking again for each', () => {
      const b = buffer(8);
      b.hold.push({ id: 1, readyAt: 10 });
      b.hold.push({ id: 2, readyAt: 0 });
      b.hold.push({ id: 3, readyAt: 5 });
      b.hold.push({ id: 4, readyAt: 0 });
      b.clock.now = 5;
      b.hold.release(false);
      expect(b.released).toEqual([[2, 3, 4]]);
      expect(b.waited).toEqual([1]);
      expect(b.hold.length).toBe(1);
      expect(b.settled).toEqual([1]);
      b.hold.stop();
    });

    it('releases every item when asked for all, ready or not', () => {
      const b = buffer(8);
      b.hold.push({ id: 1, readyAt: 100 });
      b.hold.push({ id: 2, readyAt: 100 });
      b.hold.release(true);
      expect(b.released).toEqual([[1, 2]]);
      expect(b.waited).toEqual([]);
      expect(b.hold.length).toBe(0);
      expect(b.settled).toEqual([0]);
    });

    it('ignores a release asked for from inside a release pass', () => {
      let b: ReturnType<typeof buffer> | null = null;
      const nested: number[][] = [];
      b = buffer(8, {
        release: (items) => {
          nested.push(items.map((i) => i.id));
          b?.hold.release(true);
        },
      });
      b.hold.push({ id: 1, readyAt: 0 });
      b.hold.push({ id: 2, readyAt: 100 });
      b.hold.release(false);
      expect(nested).toEqual([[1]]);
      expect(b.hold.length).toBe(1);
      b.hold.stop();
    });
  });

  describe('.push', () => {
    it('lets the oldest item leave early when full: released, counted, never lost', () => {
      const b = buffer(2);
      for (let id = 1; id <= 4; id++) b.hold.push({ id, readyAt: 100 });
      expect(b.overflowed).toEqual([1, 2]);
      expect(b.released).toEqual([[1], [2]]);
      expect(b.hold.length).toBe(2);
      b.hold.release(true);
      expect(b.released.flat()).toEqual([1, 2, 3, 4]);
    });

    it('re-checks on a timer while anything is held, and stops once nothing is', () => {
      jest.useFakeTimers();
      const b = buffer(8);
      b.hold.push({ id: 1, readyAt: 50 });
      jest.advanceTimersByTime(25);
      expect(b.ticks()).toBe(1);
      expect(b.released).toEqual([]);
      b.clock.now = 50;
      jest.advanceTimersByTime(25);
      expect(b.released).toEqual([[1]]);
      const ticks = b.ticks();
      jest.advanceTimersByTime(1000);
      expect(b.ticks()).toBe(ticks);
      // Held again: the timer runs again.
      b.hold.push({ id: 2, readyAt: 0 });
      jest.advanceTimersByTime(25);
      expect(b.released).toEqual([[1], [2]]);
    });
  });

  describe('.stop', () => {
    it('stops the timer but keeps what is held for the next release', () => {
      jest.useFakeTimers();
      const b = buffer(8);
      b.hold.push({ id: 1, readyAt: 0 });
      b.hold.stop();
      jest.advanceTimersByTime(1000);
      expect(b.ticks()).toBe(0);
      expect(b.hold.length).toBe(1);
      b.hold.release(false);
      expect(b.released).toEqual([[1]]);
    });
  });
});
