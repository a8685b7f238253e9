import { Metrics } from '../../src/telemetry/metrics';
import { Readiness, ReadinessFlag, RetryWindowProbe } from '../../src/telemetry/readiness';

describe('Readiness', () => {
  describe('.evaluate', () => {
    it('is ready with no checks', () => {
      expect(new Readiness().evaluate()).toEqual({ ready: true, failing: [], checks: [] });
    });

    it('is not ready when any check fails, naming it', () => {
      const r = new Readiness();
      r.register('a', () => ({ ready: true, detail: 'fine' }));
      r.register('b', new ReadinessFlag('waiting'));
      expect(r.evaluate()).toEqual({
        ready: false,
        failing: ['b'],
        checks: [
          { name: 'a', ready: true, detail: 'fine' },
          { name: 'b', ready: false, detail: 'waiting' },
        ],
      });
    });

    it('treats a throwing check as not ready', () => {
      const r = new Readiness();
      r.register('boom', () => {
        throw new Error('cache gone');
      });
      expect(r.evaluate().checks).toEqual([
        { name: 'boom', ready: false, detail: 'check failed: cache gone' },
      ]);
    });

    it('sets podtrace_ready per check', async () => {
      const metrics = new Metrics();
      const r = new Readiness(metrics);
      r.register('x', new ReadinessFlag('ok', true));
      r.register('y', new ReadinessFlag('no'));
      r.evaluate();
      const values = (await metrics.ready.get()).values.map((v) => [v.labels.check, v.value]);
      expect(values).toEqual([
        ['x', 1],
        ['y', 0],
      ]);
    });
  });

  describe('.register', () => {
    it('refuses a duplicate name', () => {
      const r = new Readiness();
      r.register('a', new ReadinessFlag());
      expect(() => r.register('a', new ReadinessFlag())).toThrow('readiness check "a" is already registered');
    });

    it('returns a function that removes the check', () => {
      const r = new Readiness();
      const remove = r.register('a', new ReadinessFlag());
      expect(r.evaluate().ready).toBe(false);
      remove();
      expect(r.evaluate().ready).toBe(true);
    });
  });
});

describe('RetryWindowProbe', () => {
  describe('.ready', () => {
    let now = 0;
    const clock = (): number => now;
    beforeEach(() => {
      now = 1_000_000;
    });

    it('is ready before any attempt and after a success', () => {
      const p = new RetryWindowProbe(60000, clock);
      expect(p.ready()).toEqual({ ready: true, detail: 'no attempt yet' });
      p.succeeded();
      expect(p.ready()).toEqual({ ready: true, detail: 'connected' });
    });

    it('stays ready while failing within the window, then turns not ready', () => {
      const p = new RetryWindowProbe(60000, clock);
      p.failed(new Error('ECONNREFUSED'));
      now += 30000;
      p.failed(new Error('ECONNREFUSED'));
      expect(p.ready()).toEqual({ ready: true, detail: 'retrying for 30.0s: ECONNREFUSED' });
      now += 30001;
      expect(p.ready()).toEqual({ ready: false, detail: 'failing for 60.0s (limit 60.0s): ECONNREFUSED' });
    });

    it('becomes ready again after a success', () => {
      const p = new RetryWindowProbe(1000, clock);
      p.failed('down');
      now += 5000;
      expect(p.ready().ready).toBe(false);
      p.succeeded();
      expect(p.ready()).toEqual({ ready: true, detail: 'connected' });
    });
  });
});
