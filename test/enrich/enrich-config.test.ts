import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/core/errors';
import {
  DEFAULT_HOLD_MS,
  DEFAULT_MAX_OWNERS,
  DEFAULT_POD_LIST_PAGE_SIZE,
  DEFAULT_OWNER_TTL_SECONDS,
} from '../../src/enrich/enrich-config';

const bad = (name: string): string => join(__dirname, '../fixtures/bad-config', `${name}.yaml`);

describe('enrichSchema', () => {
  describe('.defaults', () => {
    it('fills every enrich default', () => {
      const c = loadConfig(undefined, {});
      expect(c.enrich.holdMs).toBe(DEFAULT_HOLD_MS);
      expect(c.enrich.procBase).toBe('/proc');
      expect(c.enrich.cgroupBase).toBe('');
      expect(c.enrich.cri).toMatchObject({ enabled: true, endpoint: '', containerEvents: true });
      expect(c.enrich.kubernetes).toMatchObject({
        enabled: true,
        kubeconfig: '',
        labels: [],
        resolveOwners: true,
        ownerTtlSeconds: DEFAULT_OWNER_TTL_SECONDS,
        maxOwners: DEFAULT_MAX_OWNERS,
        listPageSize: DEFAULT_POD_LIST_PAGE_SIZE,
      });
      expect(c.enrich.kubelet).toEqual({ cgroupDriver: '', cgroupRoot: '', detect: true });
    });

    it('takes PODTRACE_CRI_ENDPOINT, PODTRACE_CGROUP_BASE, PODTRACE_PROC_BASE and NODE_NAME', () => {
      const c = loadConfig(undefined, {
        PODTRACE_CRI_ENDPOINT: 'unix:///run/containerd/containerd.sock',
        PODTRACE_CGROUP_BASE: '/sys/fs/cgroup',
        PODTRACE_PROC_BASE: '/host/proc',
        NODE_NAME: 'ip-10-0-0-5.ec2.internal',
      });
      expect(c.enrich.cri.endpoint).toBe('unix:///run/containerd/containerd.sock');
      expect(c.enrich.cgroupBase).toBe('/sys/fs/cgroup');
      expect(c.enrich.procBase).toBe('/host/proc');
      expect(c.nodeName).toBe('ip-10-0-0-5.ec2.internal');
    });
  });

  describe('.validate', () => {
    it.each([
      ['enrich-hold-negative', 'enrich.holdMs: -5 must be >= 0'],
      ['enrich-cri-endpoint-not-unix', 'enrich.cri.endpoint: "tcp://10.0.0.1:1234"'],
      [
        'enrich-kubelet-driver-unknown',
        'enrich.kubelet.cgroupDriver: "systemdd" is not one of "", "systemd", "cgroupfs"',
      ],
      ['enrich-kubernetes-unknown-key', 'enrich.kubernetes.labelz: unknown key'],
      ['enrich-max-owners-too-small', 'enrich.kubernetes.maxOwners: 2 must be >= 16'],
    ])('rejects %s naming the key and value', (name, message) => {
      expect(() => loadConfig(bad(name), {})).toThrow(ConfigError);
      expect(() => loadConfig(bad(name), {})).toThrow(message);
    });
  });
});
