import { parseAllDocuments, parse } from 'yaml';
import {
  DISK_QUEUE_MOUNT,
  HOST_MOUNTS,
  LIVENESS_PATH,
  NODE_ENV,
  READINESS_PATH,
  TELEMETRY_PORT,
  grantedCapabilities,
} from '../../src/deploy/node-requirements';
import { ENV_OVERRIDES, OTEL_VARIABLES } from '../../src/config/environment';
import { validateConfig } from '../../src/config/load-config';
import { parseListen } from '../../src/telemetry/telemetry-server';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- Kubernetes objects parsed from YAML are untyped */

/** Parses every YAML document in a directory's .yaml files; a syntax error fails the test. */
export function loadObjects(files: { name: string; text: string }[]): any[] {
  return files
    .flatMap(({ name, text }) =>
      parseAllDocuments(text).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${name}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS();
      }),
    )
    .filter((o) => o !== null);
}

/**
 * The checks every rendering of the DaemonSet (plain manifest or chart) must pass: its capabilities,
 * mounts, env and probes follow src/deploy/node-requirements.ts.
 */
export function checkDaemonSet(ds: any): void {
  const pod = ds.spec.template.spec;
  const [container] = pod.containers;
  const sc = container.securityContext;

  expect(pod.hostPID).toBe(true);
  expect(pod.hostNetwork).toBe(true);
  expect(pod.priorityClassName).toBe('system-node-critical');
  expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
  expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });

  // Capabilities: exactly the granted ones, everything else dropped.
  expect(sc.capabilities.drop).toEqual(['ALL']);
  expect([...sc.capabilities.add].sort()).toEqual(grantedCapabilities().sort());
  expect(sc.privileged).toBe(false);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.allowPrivilegeEscalation).toBe(false);

  // Host mounts: each declared one present as declared, and no undeclared hostPath.
  const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
  const mounts = new Map<string, any>(container.volumeMounts.map((m: any) => [m.name, m]));
  for (const m of HOST_MOUNTS) {
    expect({ volume: m.volume, hostPath: volumes.get(m.volume)?.hostPath }).toEqual({
      volume: m.volume,
      hostPath: { path: m.hostPath, type: m.type },
    });
    expect(mounts.get(m.volume)).toEqual({ name: m.volume, mountPath: m.mountPath, readOnly: m.readOnly });
  }
  // The disk queue's mount is optional (Helm value diskQueue.enabled), and exactly as declared when there.
  const queue = volumes.has(DISK_QUEUE_MOUNT.volume);
  if (queue) {
    expect(volumes.get(DISK_QUEUE_MOUNT.volume).hostPath).toEqual({
      path: DISK_QUEUE_MOUNT.hostPath,
      type: DISK_QUEUE_MOUNT.type,
    });
    expect(mounts.get(DISK_QUEUE_MOUNT.volume)).toEqual({
      name: DISK_QUEUE_MOUNT.volume,
      mountPath: DISK_QUEUE_MOUNT.mountPath,
    });
  }
  const hostPaths = pod.volumes.filter((v: any) => v.hostPath !== undefined).map((v: any) => v.name);
  expect(hostPaths.sort()).toEqual(
    [...HOST_MOUNTS.map((m) => m.volume), ...(queue ? [DISK_QUEUE_MOUNT.volume] : [])].sort(),
  );
  // Everything writable is a volume: the root filesystem is read-only.
  const writable = container.volumeMounts.filter((m: any) => m.readOnly !== true).map((m: any) => m.name);
  expect(writable).toEqual(queue ? ['tmp', DISK_QUEUE_MOUNT.volume] : ['tmp']);
  expect(volumes.get('tmp').emptyDir).toBeDefined();

  // Env: the node variables as declared; every variable set is one the code reads.
  const env = new Map<string, any>(container.env.map((e: any) => [e.name, e]));
  for (const v of NODE_ENV) {
    const expected =
      v.fieldPath !== undefined
        ? { name: v.name, valueFrom: { fieldRef: { fieldPath: v.fieldPath } } }
        : { name: v.name, value: v.value };
    expect(env.get(v.name)).toEqual(expected);
  }
  const read = new Set([
    ...ENV_OVERRIDES.map((o) => o.variable),
    ...OTEL_VARIABLES,
    ...NODE_ENV.map((v) => v.name),
  ]);
  expect([...env.keys()].filter((name) => !read.has(name))).toEqual([]);

  // The env points into the mounts.
  const mountOf = (volume: string): string => HOST_MOUNTS.find((m) => m.volume === volume)!.mountPath;
  expect(env.get('PODTRACE_PROC_BASE').value).toBe(mountOf('host-proc'));
  expect(env.get('PODTRACE_CGROUP_BASE').value.startsWith(mountOf('cgroup'))).toBe(true);
  expect(
    env
      .get('PODTRACE_CRI_ENDPOINT')
      .value.replace(/^unix:\/\//, '')
      .startsWith(`${mountOf('cri')}/`),
  ).toBe(true);

  // Probes on the telemetry port.
  const port = container.ports.find((p: any) => p.name === container.livenessProbe.httpGet.port);
  expect(port.containerPort).toBe(TELEMETRY_PORT);
  expect(container.livenessProbe.httpGet.path).toBe(LIVENESS_PATH);
  expect(container.readinessProbe.httpGet).toEqual({
    path: READINESS_PATH,
    port: container.livenessProbe.httpGet.port,
  });

  expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
  expect(container.resources.limits.memory).toBeDefined();
}

/** The ConfigMap's podtrace.yaml is valid and agrees with the DaemonSet (port, grace period). */
export function checkConfigMap(cm: any, ds: any): void {
  const config = validateConfig(parse(cm.data['podtrace.yaml']));
  expect(parseListen(config.telemetry.listen).port).toBe(TELEMETRY_PORT);
  expect(config.shutdown.timeoutMs).toBeLessThan(ds.spec.template.spec.terminationGracePeriodSeconds * 1000);
  const [container] = ds.spec.template.spec.containers;
  const configVolume = ds.spec.template.spec.volumes.find((v: any) => v.configMap?.name === cm.metadata.name);
  const configMount = container.volumeMounts.find((m: any) => m.name === configVolume.name);
  const flag = container.args[container.args.indexOf('--config') + 1];
  expect(flag).toBe(`${configMount.mountPath}/podtrace.yaml`);
  // Every disk queue the config enables lies in a writable mount (the root filesystem is read-only).
  const writable = container.volumeMounts
    .filter((m: any) => m.readOnly !== true)
    .map((m: any) => m.mountPath as string);
  for (const sink of ['otlp', 'kafka'] as const) {
    const s = config.sinks[sink];
    if (!s.enabled || s.queue.storage !== 'disk') continue;
    expect({
      sink,
      dir: s.queue.dir,
      mounted: writable.some((p: string) => s.queue.dir.startsWith(`${p}/`)),
    }).toEqual({
      sink,
      dir: s.queue.dir,
      mounted: true,
    });
  }
}
