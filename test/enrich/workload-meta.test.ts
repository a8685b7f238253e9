import { resolveOwner } from '../../src/enrich/meta/owner';
import { deriveServiceName } from '../../src/enrich/meta/service-name';
import { parseLabelSelector } from '../../src/enrich/meta/label-selector';
import { buildWorkloadMeta, hostMeta } from '../../src/enrich/meta/workload-meta-builder';
import { ConfigError } from '../../src/core/errors';

describe('deriveServiceName', () => {
  const base = {
    annotations: {},
    labels: {},
    workloadName: null as string | null,
    podName: 'web-7d4f9-abcde',
  };
  it('uses the resource.opentelemetry.io/service.name annotation first', () => {
    expect(
      deriveServiceName({
        ...base,
        annotations: { 'resource.opentelemetry.io/service.name': 'checkout' },
        labels: { 'app.kubernetes.io/instance': 'inst', 'app.kubernetes.io/name': 'nm' },
        workloadName: 'web',
      }),
    ).toBe('checkout');
  });
  it('then label app.kubernetes.io/instance', () => {
    expect(
      deriveServiceName({
        ...base,
        labels: { 'app.kubernetes.io/instance': 'inst', 'app.kubernetes.io/name': 'nm' },
        workloadName: 'web',
      }),
    ).toBe('inst');
  });
  it('then label app.kubernetes.io/name', () => {
    expect(
      deriveServiceName({ ...base, labels: { 'app.kubernetes.io/name': 'nm' }, workloadName: 'web' }),
    ).toBe('nm');
  });
  it('then the owner workload name', () => {
    expect(deriveServiceName({ ...base, workloadName: 'web' })).toBe('web');
  });
  it('then the pod name', () => {
    expect(deriveServiceName(base)).toBe('web-7d4f9-abcde');
  });
});

describe('resolveOwner', () => {
  const parents: Record<string, { kind: string; name: string } | null> = {
    'ReplicaSet/shop/web-7d4f9': { kind: 'Deployment', name: 'web' },
    'Job/batch/report-2890': { kind: 'CronJob', name: 'report' },
    'Job/batch/once': null,
  };
  const lookup = (kind: string, ns: string, name: string) => parents[`${kind}/${ns}/${name}`] ?? null;

  it('resolves ReplicaSet → Deployment', () => {
    expect(resolveOwner('shop', { kind: 'ReplicaSet', name: 'web-7d4f9' }, lookup)).toEqual({
      attributes: { 'k8s.replicaset.name': 'web-7d4f9', 'k8s.deployment.name': 'web' },
      workloadName: 'web',
    });
  });
  it('resolves Job → CronJob', () => {
    expect(resolveOwner('batch', { kind: 'Job', name: 'report-2890' }, lookup)).toEqual({
      attributes: { 'k8s.job.name': 'report-2890', 'k8s.cronjob.name': 'report' },
      workloadName: 'report',
    });
  });
  it('keeps a Job without CronJob as the workload', () => {
    expect(resolveOwner('batch', { kind: 'Job', name: 'once' }, lookup)).toEqual({
      attributes: { 'k8s.job.name': 'once' },
      workloadName: 'once',
    });
  });
  it('names StatefulSet and DaemonSet owners directly', () => {
    expect(resolveOwner('db', { kind: 'StatefulSet', name: 'pg' }, lookup).attributes).toEqual({
      'k8s.statefulset.name': 'pg',
    });
    expect(resolveOwner('kube-system', { kind: 'DaemonSet', name: 'cilium' }, lookup).attributes).toEqual({
      'k8s.daemonset.name': 'cilium',
    });
  });
  it('has no workload for a bare pod', () => {
    expect(resolveOwner('x', null, lookup)).toEqual({ attributes: {}, workloadName: null });
  });
});

describe('parseLabelSelector', () => {
  it('matches equality, inequality, set and existence requirements', () => {
    const s = parseLabelSelector('app=web,tier!=db,env in (prod, stage),!legacy,canary');
    expect(s.matches({ app: 'web', tier: 'front', env: 'prod', canary: 'true' })).toBe(true);
    expect(s.matches({ app: 'web', tier: 'db', env: 'prod', canary: 'true' })).toBe(false);
    expect(s.matches({ app: 'web', env: 'dev', canary: 'true' })).toBe(false);
    expect(s.matches({ app: 'web', env: 'prod', canary: 'true', legacy: 'y' })).toBe(false);
    expect(s.matches({ app: 'web', env: 'prod' })).toBe(false);
  });
  it('treats an empty selector as matching everything', () => {
    const s = parseLabelSelector('');
    expect(s.empty).toBe(true);
    expect(s.matches({})).toBe(true);
  });
  it('rejects a bad selector naming the key and value', () => {
    expect(() => parseLabelSelector('app==', 'filter.podSelector')).not.toThrow();
    expect(() => parseLabelSelector('a b c')).toThrow(ConfigError);
    expect(() => parseLabelSelector('a b c')).toThrow('filter.podSelector: "a b c" is not a label selector');
  });
});

describe('buildWorkloadMeta', () => {
  it('builds frozen OTel attributes with owner, copied labels and service name', () => {
    const m = buildWorkloadMeta(
      {
        containerId: 'c'.repeat(64),
        containerName: 'app',
        image: 'registry/web:1',
        runtime: 'containerd',
        podUid: 'uid-1',
        podName: 'web-7d4f9-abcde',
        namespace: 'shop',
        labels: { team: 'a', 'app.kubernetes.io/name': 'webapp' },
        annotations: {},
        owner: { kind: 'ReplicaSet', name: 'web-7d4f9' },
      },
      {
        nodeName: 'node-1',
        copyLabels: ['team', 'missing'],
        lookupParent: () => ({ kind: 'Deployment', name: 'web' }),
      },
    );
    expect(m.attributes).toEqual({
      'k8s.node.name': 'node-1',
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'web-7d4f9-abcde',
      'k8s.pod.uid': 'uid-1',
      'k8s.container.name': 'app',
      'container.id': 'c'.repeat(64),
      'container.image.name': 'registry/web:1',
      'container.runtime.name': 'containerd',
      'k8s.replicaset.name': 'web-7d4f9',
      'k8s.deployment.name': 'web',
      'k8s.pod.label.team': 'a',
      'service.name': 'webapp',
      'service.namespace': 'shop',
    });
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.attributes)).toBe(true);
  });
  it('builds the host meta', () => {
    const h = hostMeta('node-1');
    expect(h).toEqual({
      host: true,
      namespace: null,
      podName: null,
      podUid: null,
      containerName: null,
      containerId: null,
      serviceName: '',
      serviceNamespace: 'host',
      attributes: { 'k8s.node.name': 'node-1' },
    });
  });
});
