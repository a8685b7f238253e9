import { silentLogger } from '../../src/core/logger';
import { KernelScopeSync } from '../../src/enrich/kernel-scope-sync';
import type { NativeTracer } from '../../src/native/native-addon';
import { KernelScope } from '../../src/sources/kernel-scope';

/** The map side of a tracer: what scopeMode/scopeUpdate/scopeClear leave in pt_scope. */
function fakeTracer(): { tracer: NativeTracer; map: Set<number>; mode: () => number } {
  const map = new Set<number>();
  let mode = -1;
  const tracer = {
    scopeMode: (m: number) => (mode = m),
    scopeUpdate: (add: readonly number[], remove: readonly number[]) => {
      for (const id of remove) map.delete(id);
      for (const id of add) map.add(id);
    },
    scopeClear: () => map.clear(),
    scopeList: () => [...map],
  } as unknown as NativeTracer;
  return { tracer, map, mode: () => mode };
}

describe('KernelScope', () => {
  describe('.bind', () => {
    it('writes what was set before the tracer existed, replacing what the map held', () => {
      const scope = new KernelScope();
      scope.setMode('allow');
      scope.add([11, 12]);
      scope.remove([12]);
      const f = fakeTracer();
      f.map.add(99); // stale
      scope.bind(f.tracer);
      expect([...f.map]).toEqual([11]);
      expect(f.mode()).toBe(2);
    });

    it('passes later changes straight through and stops after bind(null)', () => {
      const scope = new KernelScope();
      const f = fakeTracer();
      scope.bind(f.tracer);
      scope.setMode('deny');
      scope.add([5, 5, 0, 6]);
      expect(f.mode()).toBe(1);
      expect([...f.map].sort()).toEqual([5, 6]);
      scope.clear();
      expect(f.map.size).toBe(0);
      scope.bind(null);
      scope.add([7]);
      expect(f.map.size).toBe(0);
      expect(scope.listed()).toEqual([7]);
    });
  });
});

describe('KernelScopeSync', () => {
  describe('.decided', () => {
    it('denies excluded cgroups once, undenies them when the decision flips or they are forgotten', () => {
      const scope = new KernelScope();
      const sync = new KernelScopeSync(scope, true, silentLogger());
      expect(scope.mode).toBe('deny');
      sync.decided(10, false);
      sync.decided(10, false);
      sync.decided(11, true);
      expect(scope.listed()).toEqual([10]);
      sync.decided(10, true);
      expect(scope.listed()).toEqual([]);
      sync.decided(12, false);
      sync.forgotten(12);
      expect(scope.listed()).toEqual([]);
      expect(sync.deniedCount).toBe(0);
    });

    it('leaves the kernel scope alone when no filter is configured', () => {
      const scope = new KernelScope();
      const sync = new KernelScopeSync(scope, false, silentLogger());
      sync.decided(10, false);
      expect(scope.mode).toBe('off');
      expect(scope.listed()).toEqual([]);
    });

    it('turns itself off (user space keeps filtering) when the map refuses a write', () => {
      let adds = 0;
      const failing = {
        setMode: () => undefined,
        add: () => {
          adds++;
          throw new Error('E2BIG');
        },
        remove: () => undefined,
      };
      const sync = new KernelScopeSync(failing, true, silentLogger());
      expect(() => sync.decided(1, false)).not.toThrow();
      sync.decided(2, false);
      expect(adds).toBe(1);
    });
  });
});
