import { BootClock } from '../../src/events/clock';

describe('BootClock', () => {
  describe('.toUnixNs', () => {
    it('adds the realtime-boottime offset', () => {
      const c = new BootClock(
        () => 1_000,
        1000,
        () => 0,
      );
      expect(c.toUnixNs(5)).toBe(1_005);
    });
  });

  describe('.refresh', () => {
    it('re-samples the offset only after the refresh interval', () => {
      let now = 0;
      let offset = 10;
      const c = new BootClock(
        () => offset,
        1000,
        () => now,
      );
      offset = 20;
      now = 999;
      c.refresh();
      expect(c.offset).toBe(10);
      now = 1000;
      c.refresh();
      expect(c.offset).toBe(20);
    });
  });
});
