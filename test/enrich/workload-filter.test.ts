import { WorkloadFilter } from '../../src/enrich/meta/workload-filter';
import type { ContainerFacts } from '../../src/enrich/meta/workload-meta-builder';

const NONE = { includeHost: true, namespaces: [], excludeNamespaces: [], podSelector: '' };
const facts = (
  namespace: string | null,
  podName: string | null,
  labels: Record<string, string> = {},
): ContainerFacts => ({
  containerId: null,
  containerName: null,
  image: null,
  runtime: null,
  podUid: null,
  podName,
  namespace,
  labels,
  annotations: {},
  owner: null,
});

describe('WorkloadFilter', () => {
  it('keeps everything and is inactive with no filter set', () => {
    const f = new WorkloadFilter(NONE);
    expect(f.active).toBe(false);
    expect(f.keepsUnattributed).toBe(true);
    expect(f.keeps(facts(null, null))).toBe(true);
  });

  describe('.keeps', () => {
    it('keeps only the listed namespaces, minus the excluded ones', () => {
      const f = new WorkloadFilter({ ...NONE, namespaces: ['shop', 'ops'], excludeNamespaces: ['ops'] });
      expect(f.active).toBe(true);
      expect(f.keepsUnattributed).toBe(false);
      expect(f.keeps(facts('shop', 'web'))).toBe(true);
      expect(f.keeps(facts('ops', 'web'))).toBe(false);
      expect(f.keeps(facts('other', 'web'))).toBe(false);
      expect(f.keeps(facts(null, null))).toBe(false);
    });

    it('keeps a pod whose labels match the selector, never one whose pod is unknown', () => {
      const f = new WorkloadFilter({ ...NONE, podSelector: 'app=web' });
      expect(f.keeps(facts('shop', 'web-1', { app: 'web' }))).toBe(true);
      expect(f.keeps(facts('shop', 'db-1', { app: 'db' }))).toBe(false);
      expect(f.keeps(facts('shop', null, { app: 'web' }))).toBe(false);
    });

    it('is active when only the host is excluded, which still keeps unattributed cgroups', () => {
      const f = new WorkloadFilter({ ...NONE, includeHost: false });
      expect(f.active).toBe(true);
      expect(f.keepsHost).toBe(false);
      expect(f.keepsUnattributed).toBe(true);
    });
  });
});
