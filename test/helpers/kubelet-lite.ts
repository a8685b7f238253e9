import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- Kubernetes objects parsed from YAML are untyped */

/**
 * What the kubelet sends to the CRI for a pod spec, for the parts of a pod spec podtrace's
 * DaemonSet uses: host namespaces, the container security context (capabilities, read-only root,
 * no_new_privs, user, seccomp), resources, env (literal and downward API), and volumes (hostPath
 * with its type check, configMap, emptyDir). Anything else in the spec throws, so a DaemonSet
 * that grows a field this does not translate fails the test instead of running without it.
 */
export interface KubeletPod {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  /** The pod spec (e.g. a rendered DaemonSet's spec.template.spec). */
  spec: any;
  /** ConfigMaps the pod's volumes name: name → data. */
  configMaps: Record<string, Record<string, string>>;
  /** Where the kubelet would keep the pod's volumes (configMap files, emptyDirs). */
  podDir: string;
  /** hostPath → path on this machine, for host paths a test environment keeps elsewhere. */
  hostPathOverrides?: Record<string, string>;
  /** Container spec edits made on purpose by a test (e.g. a capability removed), applied first. */
  editContainer?: (container: any) => any;
}

export interface CriPodConfigs {
  sandboxConfig: any;
  containers: { name: string; config: any }[];
}

const POD_KEYS = new Set([
  'serviceAccountName',
  'priorityClassName',
  'hostPID',
  'hostNetwork',
  'dnsPolicy',
  'terminationGracePeriodSeconds',
  'nodeSelector',
  'affinity',
  'tolerations',
  'containers',
  'volumes',
]);
const CONTAINER_KEYS = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'securityContext',
  'env',
  'ports',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'resources',
  'volumeMounts',
]);
const SECURITY_KEYS = new Set([
  'runAsUser',
  'runAsNonRoot',
  'privileged',
  'allowPrivilegeEscalation',
  'readOnlyRootFilesystem',
  'seccompProfile',
  'capabilities',
]);

function onlyKeys(obj: any, allowed: Set<string>, where: string): void {
  for (const k of Object.keys(obj ?? {}))
    if (!allowed.has(k)) throw new Error(`kubelet-lite: ${where}.${k} is not translated to CRI`);
}

/** Kubernetes quantities as the kubelet reads them: cpu in millicores, memory in bytes. */
export function milliCpu(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) : Math.round(Number(s) * 1000);
}
export function bytes(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (m === null) throw new Error(`kubelet-lite: memory quantity ${String(q)}`);
  const mul: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] === undefined ? 1 : (mul[m[2]] as number)));
}

/** The kubelet's CFS settings and OOM score for a container (critical pods get the guaranteed score). */
function resources(pod: any, c: any): any {
  const period = 100000;
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const critical = ['system-node-critical', 'system-cluster-critical'].includes(pod.priorityClassName);
  return {
    cpuPeriod: lim.cpu !== undefined ? period : 0,
    cpuQuota: lim.cpu !== undefined ? Math.floor((milliCpu(lim.cpu) * period) / 1000) : 0,
    cpuShares: Math.max(2, Math.floor((milliCpu(req.cpu ?? lim.cpu ?? '2m') * 1024) / 1000)),
    memoryLimitInBytes: lim.memory !== undefined ? bytes(lim.memory) : 0,
    oomScoreAdj: critical ? -997 : 1000,
  };
}

function seccomp(sc: any): any {
  const t = sc?.seccompProfile?.type ?? 'Unconfined';
  if (t === 'Localhost')
    return { profileType: 'Localhost', localhostRef: sc.seccompProfile.localhostProfile };
  return { profileType: t };
}

function envOf(c: any, p: KubeletPod): { key: string; value: string }[] {
  return (c.env ?? []).map((e: any) => {
    if (e.value !== undefined) return { key: e.name, value: String(e.value) };
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const downward: Record<string, string> = {
      'spec.nodeName': p.nodeName,
      'metadata.name': p.name,
      'metadata.namespace': p.namespace,
      'metadata.uid': p.uid,
    };
    if (field !== undefined && downward[field] !== undefined) return { key: e.name, value: downward[field] };
    throw new Error(`kubelet-lite: env ${e.name}: ${JSON.stringify(e.valueFrom)} is not translated`);
  });
}

/** Makes each volume's host side (as the kubelet would) and returns volume name → host path. */
function materializeVolumes(p: KubeletPod): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of p.spec.volumes ?? []) {
    if (v.hostPath !== undefined) {
      const path = p.hostPathOverrides?.[v.hostPath.path] ?? v.hostPath.path;
      if (v.hostPath.type === 'DirectoryOrCreate') mkdirSync(path, { recursive: true });
      if (v.hostPath.type === 'Directory' && !(existsSync(path) && statSync(path).isDirectory()))
        throw new Error(`kubelet-lite: hostPath ${path} (volume ${v.name}) is not a directory`);
      out.set(v.name, path);
    } else if (v.configMap !== undefined) {
      const data = p.configMaps[v.configMap.name];
      if (data === undefined) throw new Error(`kubelet-lite: ConfigMap ${v.configMap.name} not given`);
      const dir = join(p.podDir, 'volumes', 'configmap', v.name);
      mkdirSync(dir, { recursive: true });
      for (const [k, text] of Object.entries(data)) writeFileSync(join(dir, k), text);
      out.set(v.name, dir);
    } else if (v.emptyDir !== undefined) {
      const dir = join(p.podDir, 'volumes', 'empty-dir', v.name);
      mkdirSync(dir, { recursive: true });
      if (v.emptyDir.medium === 'Memory') {
        const size = v.emptyDir.sizeLimit !== undefined ? `,size=${bytes(v.emptyDir.sizeLimit)}` : '';
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `mode=1777${size}`, 'tmpfs', dir], {
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`kubelet-lite: tmpfs for ${v.name}: ${r.stderr}`);
      }
      out.set(v.name, dir);
    } else {
      throw new Error(`kubelet-lite: volume ${v.name} of this kind is not translated`);
    }
  }
  return out;
}

/** The CRI RunPodSandbox and CreateContainer configs the kubelet would send for this pod. */
export function criPodConfigs(p: KubeletPod): CriPodConfigs {
  const spec = p.spec;
  onlyKeys(spec, POD_KEYS, 'spec');
  const namespaceOptions = {
    network: spec.hostNetwork === true ? 'NODE' : 'POD',
    pid: spec.hostPID === true ? 'NODE' : 'CONTAINER',
    ipc: 'POD',
  };
  const podLabels = {
    'io.kubernetes.pod.name': p.name,
    'io.kubernetes.pod.namespace': p.namespace,
    'io.kubernetes.pod.uid': p.uid,
  };
  const logDirectory = join(p.podDir, 'logs');
  mkdirSync(logDirectory, { recursive: true });
  const sandboxConfig = {
    metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
    hostname: '',
    logDirectory,
    labels: podLabels,
    annotations: {},
    linux: {
      cgroupParent: `/kubepods/pod${p.uid}`,
      securityContext: { namespaceOptions },
    },
  };
  const volumes = materializeVolumes(p);
  const containers = (spec.containers as any[]).map((original) => {
    const c = p.editContainer ? p.editContainer(structuredClone(original)) : original;
    onlyKeys(c, CONTAINER_KEYS, `containers[${c.name}]`);
    const sc = c.securityContext ?? {};
    onlyKeys(sc, SECURITY_KEYS, `containers[${c.name}].securityContext`);
    const mounts = (c.volumeMounts ?? []).map((m: any) => {
      const hostPath = volumes.get(m.name);
      if (hostPath === undefined) throw new Error(`kubelet-lite: volumeMount ${m.name} has no volume`);
      return { containerPath: m.mountPath, hostPath, readonly: m.readOnly === true };
    });
    const config = {
      metadata: { name: c.name, attempt: 0 },
      image: { image: c.image },
      command: c.command ?? [],
      args: c.args ?? [],
      envs: envOf(c, p),
      mounts,
      labels: { ...podLabels, 'io.kubernetes.container.name': c.name },
      annotations: {},
      logPath: `${c.name}/0.log`,
      linux: {
        resources: resources(spec, c),
        securityContext: {
          capabilities: {
            addCapabilities: sc.capabilities?.add ?? [],
            dropCapabilities: sc.capabilities?.drop ?? [],
          },
          privileged: sc.privileged === true,
          namespaceOptions,
          ...(sc.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
          readonlyRootfs: sc.readOnlyRootFilesystem === true,
          noNewPrivs: sc.allowPrivilegeEscalation === false,
          seccomp: seccomp(sc),
        },
      },
    };
    mkdirSync(join(logDirectory, c.name), { recursive: true });
    return { name: c.name as string, config };
  });
  return { sandboxConfig, containers };
}
