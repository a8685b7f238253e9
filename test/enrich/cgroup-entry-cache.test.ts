import { CgroupEntryCache } from '../../src/enrich/cgroup-entry-cache';
import type { CgroupEntry, EntryEviction } from '../../src/enrich/cgroup-entry-cache';

const UID = '11111111-1111-4111-8111-111111111111';

function entry(id: number, podUid: string | null = null): CgroupEntry {
  return {
    id,
    resolving: false,
    resolvedOnce: true,
    cls:
      podUid === null
        ? null
        : {
            kind: 'container',
            containerId: String(id).repeat(64).slice(0, 64),
            runtime: null,
            podUid,
            qos: null,
          },
    meta: null,
    outcome: 'none',
    keep: true,
    firstSeen: 0,
    holdUntil: 0,
    nextRetryAt: 0,
    usedInBatch: 0,
  };
}

function cache(max: number) {
  const forgotten: [number, EntryEviction][] = [];
  const c = new CgroupEntryCache(max, (e, why) => forgotten.push([e.id, why]));
  return { c, forgotten };
}

describe('CgroupEntryCache', () => {
  describe('.add', () => {
    it('evicts the least recently used entry when full, moving a used entry once per batch', () => {
      const { c, forgotten } = cache(3);
      const [a, b, d] = [entry(1), entry(2), entry(3)];
      c.add(a);
      c.add(b);
      c.add(d);
      c.touch(a, 1); // 2 is now the least recently used
      c.add(entry(4));
      expect(forgotten).toEqual([[2, 'lru']]);
      expect([...c.values()].map((e) => e.id)).toEqual([3, 1, 4]);
      expect(c.size).toBe(3);
      // Touching again within the same batch does not move it.
      c.touch(d, 2);
      c.touch(a, 2);
      c.touch(d, 2);
      expect([...c.values()].map((e) => e.id)).toEqual([4, 3, 1]);
    });
  });

  describe('.forget', () => {
    it('removes an entry from its pod index and reports it once', () => {
      const { c, forgotten } = cache(8);
      const a = entry(1, UID);
      const b = entry(2, UID);
      c.add(a);
      c.add(b);
      c.indexByPod(a);
      c.indexByPod(b);
      expect(c.ofPod(UID).map((e) => e.id)).toEqual([1, 2]);
      c.forget(a, 'rmdir');
      c.forget(a, 'removed');
      expect(forgotten).toEqual([[1, 'rmdir']]);
      expect(c.ofPod(UID).map((e) => e.id)).toEqual([2]);
      expect(c.get(1)).toBeUndefined();
    });

    it('leaves a newer entry under the same id alone when an older one is forgotten', () => {
      const { c, forgotten } = cache(8);
      const old = entry(1, UID);
      c.add(old);
      c.forget(old, 'rmdir');
      const fresh = entry(1, UID);
      c.add(fresh);
      c.forget(old, 'removed');
      expect(c.get(1)).toBe(fresh);
      expect(forgotten).toEqual([[1, 'rmdir']]);
    });
  });

  describe('.indexByPod', () => {
    it('does not index an entry forgotten while it was being resolved', () => {
      const { c } = cache(8);
      const a = entry(1);
      c.add(a);
      c.forget(a, 'lru');
      a.cls = { kind: 'pod', podUid: UID, qos: null };
      c.indexByPod(a);
      expect(c.ofPod(UID)).toEqual([]);
    });
  });
});
