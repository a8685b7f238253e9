import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RBAC_RULES } from '../../src/deploy/node-requirements';
import { validateConfig } from '../../src/config/load-config';
import { chartMeta, renderChart } from '../helpers/helm-render';
import { checkConfigMap, checkDaemonSet, loadObjects } from '../helpers/deploy-checks';
import { k8sSchemaProblems } from '../helpers/k8s-schema';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- Kubernetes objects parsed from YAML are untyped */

const PLAIN = join(__dirname, '..', '..', 'deploy', 'kubernetes');

const chart = chartMeta;
const render = renderChart;

const plain = loadObjects(
  readdirSync(PLAIN)
    .filter((f) => f.endsWith('.yaml'))
    .map((name) => ({ name, text: readFileSync(join(PLAIN, name), 'utf8') })),
);
const kind = (objects: any[], k: string): any => objects.find((o) => o.kind === k);
const envOf = (objects: any[]): any[] => kind(objects, 'DaemonSet').spec.template.spec.containers[0].env;

describe('deploy/helm/podtrace', () => {
  describe('.render', () => {
    const rendered = render();

    it('renders the same kinds as the plain manifests, less the Namespace (Helm installs into one)', () => {
      expect(rendered.map((o) => o.kind).sort()).toEqual(
        plain
          .map((o) => o.kind)
          .filter((k) => k !== 'Namespace')
          .sort(),
      );
    });

    it('renders only fields the Kubernetes API types define, also with every optional value set', () => {
      const full = render({
        kafka: { brokers: 'k:9092' },
        otlp: { headersSecret: { name: 's' } },
        securityContext: { extraCapabilities: ['SYS_ADMIN'], seLinuxOptions: { type: 'super_t' } },
        extraEnv: [{ name: 'PODTRACE_LOG_LEVEL', value: 'debug' }],
        nodeFlags: ['--heap-growing-percent=100'],
      });
      expect([...rendered, ...full].flatMap((o) => k8sSchemaProblems(o))).toEqual([]);
    });

    it('puts nodeFlags between node and the image entry point, and leaves the entry point alone without them', () => {
      const container = (objects: any[]): any => kind(objects, 'DaemonSet').spec.template.spec.containers[0];
      const entrypoint = JSON.parse(
        /^ENTRYPOINT (\[.*\])$/m.exec(
          readFileSync(join(__dirname, '..', '..', 'deploy', 'Dockerfile'), 'utf8'),
        )![1]!,
      ) as string[];
      const flags = ['--heap-growing-percent=100', '--max-old-space-size=384'];
      const withFlags = container(render({ nodeFlags: flags }));
      expect(withFlags.command).toEqual([entrypoint[0], ...flags, ...entrypoint.slice(1)]);
      expect(withFlags.args).toEqual(container(rendered).args);
      expect(container(rendered).command).toBeUndefined();
    });

    it('renders a DaemonSet that meets node-requirements.ts', () => {
      checkDaemonSet(kind(rendered, 'DaemonSet'));
    });

    it('renders the same pod as deploy/kubernetes/daemonset.yaml with default values', () => {
      const ds = kind(rendered, 'DaemonSet');
      const plainDs = kind(plain, 'DaemonSet');
      expect(ds.spec.template.spec).toEqual(plainDs.spec.template.spec);
      expect(ds.spec.template.metadata.annotations).toEqual(plainDs.spec.template.metadata.annotations);
      expect(ds.spec.updateStrategy).toEqual(plainDs.spec.updateStrategy);
    });

    it('renders the same podtrace.yaml as deploy/kubernetes/configmap.yaml, and it is valid', () => {
      const cm = kind(rendered, 'ConfigMap');
      expect(parse(cm.data['podtrace.yaml'])).toEqual(parse(kind(plain, 'ConfigMap').data['podtrace.yaml']));
      checkConfigMap(cm, kind(rendered, 'DaemonSet'));
    });

    it('selects its own pods', () => {
      const ds = kind(rendered, 'DaemonSet');
      expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
    });

    it('binds the read-only ClusterRole to its ServiceAccount', () => {
      expect(kind(rendered, 'ClusterRole').rules).toEqual(RBAC_RULES);
      expect(kind(rendered, 'ClusterRoleBinding').subjects).toEqual([
        { kind: 'ServiceAccount', name: 'podtrace', namespace: 'podtrace' },
      ]);
    });

    it('defaults the image tag to the appVersion', () => {
      expect(kind(rendered, 'DaemonSet').spec.template.spec.containers[0].image).toBe(
        `ghcr.io/podtrace/podtrace:${chart.appVersion}`,
      );
    });
  });

  describe('.values', () => {
    it('sets PODTRACE_KAFKA_BROKERS only when kafka.brokers is given', () => {
      expect(envOf(render()).map((e) => e.name)).not.toContain('PODTRACE_KAFKA_BROKERS');
      expect(envOf(render({ kafka: { brokers: 'k1:9092,k2:9092' } }))).toContainEqual({
        name: 'PODTRACE_KAFKA_BROKERS',
        value: 'k1:9092,k2:9092',
      });
    });

    it('sets OTEL_EXPORTER_OTLP_ENDPOINT from otlp.endpoint and leaves it out when empty', () => {
      expect(envOf(render({ otlp: { endpoint: 'http://c:4317' } }))).toContainEqual({
        name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
        value: 'http://c:4317',
      });
      expect(envOf(render({ otlp: { endpoint: '' } })).map((e) => e.name)).not.toContain(
        'OTEL_EXPORTER_OTLP_ENDPOINT',
      );
    });

    it('reads OTLP headers from a Secret, never from values', () => {
      expect(envOf(render({ otlp: { headersSecret: { name: 'otlp-auth' } } }))).toContainEqual({
        name: 'OTEL_EXPORTER_OTLP_HEADERS',
        valueFrom: { secretKeyRef: { name: 'otlp-auth', key: 'headers' } },
      });
    });

    it('adds extra capabilities and an SELinux label when asked (old kernels, Bottlerocket)', () => {
      const ds = kind(
        render({
          securityContext: { extraCapabilities: ['SYS_ADMIN'], seLinuxOptions: { type: 'super_t' } },
        }),
        'DaemonSet',
      );
      const sc = ds.spec.template.spec.containers[0].securityContext;
      expect(sc.capabilities.add).toEqual(['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN']);
      expect(sc.seLinuxOptions).toEqual({ type: 'super_t' });
    });

    it('moves the CRI socket mount and endpoint together', () => {
      const ds = kind(
        render({ cri: { endpoint: 'unix:///run/crio/crio.sock', socketDir: '/run/crio' } }),
        'DaemonSet',
      );
      const pod = ds.spec.template.spec;
      expect(pod.volumes).toContainEqual({
        name: 'cri',
        hostPath: { path: '/run/crio', type: 'DirectoryOrCreate' },
      });
      expect(pod.containers[0].volumeMounts).toContainEqual({
        name: 'cri',
        mountPath: '/run/crio',
        readOnly: true,
      });
      expect(pod.containers[0].env).toContainEqual({
        name: 'PODTRACE_CRI_ENDPOINT',
        value: 'unix:///run/crio/crio.sock',
      });
    });

    it("mounts the disk queue hostPath read-write only with diskQueue.enabled, where the sinks' queue.dir defaults lie", () => {
      expect(kind(render(), 'DaemonSet').spec.template.spec.volumes.map((v: any) => v.name)).not.toContain(
        'queue',
      );
      const objects = render({
        diskQueue: { enabled: true },
        config: {
          sinks: {
            otlp: { enabled: true, queue: { storage: 'disk', maxBytes: 1 << 30 } },
            kafka: { enabled: true, brokers: ['k:9092'], queue: { storage: 'disk' } },
          },
        },
      });
      const ds = kind(objects, 'DaemonSet');
      checkDaemonSet(ds);
      checkConfigMap(kind(objects, 'ConfigMap'), ds);
      expect(ds.spec.template.spec.volumes).toContainEqual({
        name: 'queue',
        hostPath: { path: '/var/lib/podtrace/queue', type: 'DirectoryOrCreate' },
      });
      expect(objects.flatMap((o) => k8sSchemaProblems(o))).toEqual([]);
    });

    it('refuses, in the checks, a disk queue the pod has no writable mount for', () => {
      const objects = render({
        config: { sinks: { kafka: { enabled: true, brokers: ['k:9092'], queue: { storage: 'disk' } } } },
      });
      expect(() => checkConfigMap(kind(objects, 'ConfigMap'), kind(objects, 'DaemonSet'))).toThrow(/mounted/);
    });

    it('puts probes and filters from values into a valid podtrace.yaml', () => {
      const cm = kind(
        render({ config: { source: { ebpf: { probes: ['tcp'] } }, filter: { namespaces: ['shop'] } } }),
        'ConfigMap',
      );
      const config = validateConfig(parse(cm.data['podtrace.yaml']));
      expect(config.source.ebpf.probes).toEqual(['tcp']);
      expect(config.filter.namespaces).toEqual(['shop']);
    });

    it('rejects a bad probe name in values through the config validation', () => {
      const cm = kind(render({ config: { source: { ebpf: { probes: ['dnsx'] } } } }), 'ConfigMap');
      expect(() => validateConfig(parse(cm.data['podtrace.yaml']))).toThrow(
        'source.ebpf.probes[0]: "dnsx" is not one of',
      );
    });
  });
});
