import { CgroupPathResolver, MAX_PROC_READS_IN_FLIGHT } from '../../src/enrich/cgroup/cgroup-path-resolver';
import { FakeNode } from './enrich-fixtures';

const containerPath = (i: number): string =>
  `/kubepods.slice/kubepods-pod${i}.slice/cri-containerd-${String(i).padStart(64, 'c')}.scope`;

describe('CgroupPathResolver', () => {
  let node: FakeNode;

  beforeEach(() => {
    node = new FakeNode();
  });

  afterEach(() => {
    node.cleanup();
  });

  describe('.resolve', () => {
    it('answers a burst of unknown cgroups through /proc with at most MAX_PROC_READS_IN_FLIGHT reads at once', async () => {
      const n = MAX_PROC_READS_IN_FLIGHT * 10;
      const cgroups = Array.from({ length: n }, (_, i) => ({
        id: node.cgroup(containerPath(i)),
        pid: node.process(containerPath(i)),
      }));
      const vias: string[] = [];
      // No start(): the cache is empty, every lookup needs the /proc fallback.
      const r = new CgroupPathResolver(node.cgroupBase, node.procBase, 60_000, {
        maxEntries: 10_000,
        onResolve: (via) => vias.push(via),
      });
      const answers = await Promise.all(cgroups.map((c) => r.resolve(c.id, c.pid)));
      expect(answers.map((a) => a?.path)).toEqual(cgroups.map((_, i) => containerPath(i)));
      expect(answers.every((a) => a?.via === 'proc')).toBe(true);
      expect(r.procReadsPeak).toBeGreaterThan(0);
      expect(r.procReadsPeak).toBeLessThanOrEqual(MAX_PROC_READS_IN_FLIGHT);
      expect(vias.filter((v) => v === 'proc')).toHaveLength(n);
      expect(r.procReadsDone).toBe(n);
    });

    it('gives a lookup queued behind the bound the answer another one learned meanwhile, without reading', async () => {
      const path = containerPath(1);
      const id = node.cgroup(path);
      const pid = node.process(path);
      const r = new CgroupPathResolver(node.cgroupBase, node.procBase, 60_000, { maxEntries: 10_000 });
      // Many events of one new cgroup at once: one read answers them all.
      const answers = await Promise.all(
        Array.from({ length: MAX_PROC_READS_IN_FLIGHT * 4 }, () => r.resolve(id, pid)),
      );
      expect(new Set(answers.map((a) => a?.path))).toEqual(new Set([path]));
      expect(answers.every((a) => a?.via === 'proc')).toBe(true);
      // The first slots read before anything was learned; the lookups queued behind them did not.
      expect(r.procReadsDone).toBeGreaterThan(0);
      expect(r.procReadsDone).toBeLessThanOrEqual(MAX_PROC_READS_IN_FLIGHT);
    });

    it('falls back to a walk, not a wedge, when /proc has no such process', async () => {
      const path = containerPath(2);
      const id = node.cgroup(path);
      const r = new CgroupPathResolver(node.cgroupBase, node.procBase, 0, { maxEntries: 10_000 });
      const answers = await Promise.all(
        Array.from({ length: MAX_PROC_READS_IN_FLIGHT * 2 }, () => r.resolve(id, 999_999)),
      );
      expect(answers.every((a) => a?.path === path)).toBe(true);
    });
  });
});
