import { BoundedQueue } from '../../src/core/bounded-queue';

describe('BoundedQueue', () => {
  describe('.push', () => {
    it('drops the newest item when full and counts it, never growing', () => {
      const dropped: number[] = [];
      const q = new BoundedQueue<number>(3, 'newest', (x) => dropped.push(x));
      for (let i = 0; i < 10; i++) q.push(i);
      expect(q.length).toBe(3);
      expect(q.dropped).toBe(7);
      expect(dropped).toEqual([3, 4, 5, 6, 7, 8, 9]);
      expect(q.drain()).toEqual([0, 1, 2]);
    });

    it('drops the oldest item when the policy says so', () => {
      const q = new BoundedQueue<number>(3, 'oldest');
      for (let i = 0; i < 5; i++) q.push(i);
      expect(q.dropped).toBe(2);
      expect(q.drain()).toEqual([2, 3, 4]);
    });
  });

  describe('.drain', () => {
    it('returns at most max items in FIFO order across wrap-around', () => {
      const q = new BoundedQueue<number>(4);
      q.push(1);
      q.push(2);
      q.shift();
      q.push(3);
      q.push(4);
      q.push(5);
      expect(q.drain(2)).toEqual([2, 3]);
      expect(q.drain()).toEqual([4, 5]);
      expect(q.shift()).toBeUndefined();
    });
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
