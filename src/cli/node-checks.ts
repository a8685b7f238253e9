import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { PodtraceConfig } from '../config/config';
import { errorMessage } from '../core/errors';
import { existsSync } from 'node:fs';
import { detectCgroupLayout, probeCri } from '../enrich/check';
import { detectAttributionMode } from '../enrich/cgroup/attribution-mode';
import { loadKubeConfig } from '../enrich/kube/kube-store';
import { resolveOtlpTarget } from '../sinks/otlp/otlp-target';
import type { CheckResult } from './check-command';

/** cgroup layout and the kubelet's cgroup driver/root, as enrichment will use them. */
export function cgroupLayoutCheck(config: PodtraceConfig): CheckResult {
  const r = detectCgroupLayout(config.enrich);
  const k = r.kubelet;
  const kubelet =
    k.pid === null
      ? 'kubelet not found under procBase'
      : `kubelet pid ${k.pid}: driver ${k.cgroupDriver ?? '?'} (${k.cgroupDriverSource}), root ${k.cgroupRoot ?? '/'} (${k.cgroupRootSource})`;
  if (r.mount === null && detectAttributionMode(config.enrich).mode !== 'v1') {
    return {
      status: 'fail',
      name: 'cgroup layout',
      detail: r.problems.join('; '),
      hint: 'set enrich.cgroupBase / PODTRACE_CGROUP_BASE to the cgroup2 mount',
    };
  }
  return {
    status: r.problems.length > 0 ? 'warn' : 'ok',
    name: 'cgroup layout',
    detail: `${r.mount ?? 'no cgroup2'}${r.hybrid ? ' (hybrid)' : ''}; ${kubelet}${r.problems.length > 0 ? `; ${r.problems.join('; ')}` : ''}`,
    hint: 'set enrich.procBase / PODTRACE_PROC_BASE to the host /proc (e.g. /host/proc in a DaemonSet)',
  };
}

const CGROUP_TRACEPOINTS = [
  '/sys/kernel/tracing/events/cgroup/cgroup_mkdir',
  '/sys/kernel/debug/tracing/events/cgroup/cgroup_mkdir',
];

/**
 * Which cgroup hierarchy events are attributed through (cgroup2, or a v1 controller's on cgroup-v1
 * nodes) and why; whether the kernel reports cgroup creation (else new containers cost a rescan).
 */
export function attributionCheck(config: PodtraceConfig): CheckResult {
  const m = detectAttributionMode(config.enrich);
  if (m.mode === 'none')
    return {
      status: config.enrich.enabled ? 'fail' : 'warn',
      name: 'attribution',
      detail: m.reason,
      hint: 'set enrich.cgroupBase / PODTRACE_CGROUP_BASE, or enrich.cgroupMode',
    };
  const tracefs = CGROUP_TRACEPOINTS.some((p) => existsSync(p));
  const feed = tracefs
    ? 'cgroup ids and paths from cgroup:cgroup_mkdir/rmdir, sockets by their own cgroup'
    : 'cgroup:cgroup_mkdir not visible in tracefs here (the probe may still attach; else new cgroups are found by rescans)';
  return {
    status: 'ok',
    name: 'attribution',
    detail: `cgroup ${m.mode}${m.mode === 'v1' ? ` (${m.controller ?? '?'})` : ''}: ${m.reason}; ${feed}`,
  };
}

/** Which CRI endpoint answers Version (podtrace still runs without one: pod names then come from the API). */
export async function criCheck(config: PodtraceConfig): Promise<CheckResult> {
  if (!config.enrich.enabled || !config.enrich.cri.enabled)
    return { status: 'ok', name: 'cri', detail: 'disabled in the config' };
  const r = await probeCri(config.enrich.cri.endpoint, config.enrich.cri.timeoutMs);
  if (r.endpoint !== null)
    return {
      status: 'ok',
      name: 'cri',
      detail: `${r.endpoint}: ${r.runtimeName ?? '?'} ${r.runtimeVersion ?? ''}`.trim(),
    };
  return {
    status: 'warn',
    name: 'cri',
    detail: `no runtime answered: ${r.tried.map((t) => `${t.endpoint} (${t.error ?? 'ok'})`).join(', ')}`,
    hint: 'mount the runtime socket and set enrich.cri.endpoint / PODTRACE_CRI_ENDPOINT',
  };
}

/** The owners enrichment looks up by name (ReplicaSet → Deployment, Job → CronJob). */
const OWNER_RESOURCES: readonly (readonly [string, string])[] = [
  ['apps', 'replicasets'],
  ['batch', 'jobs'],
];

/**
 * A trial list of this node's pods (credentials, reachability, RBAC for pods), then a
 * SelfSubjectAccessReview for `get` on replicasets and jobs, which owner resolution needs.
 */
export async function kubernetesCheck(config: PodtraceConfig): Promise<CheckResult> {
  if (!config.enrich.enabled || !config.enrich.kubernetes.enabled)
    return { status: 'ok', name: 'kubernetes', detail: 'disabled in the config' };
  try {
    const k8s = await import('@kubernetes/client-node');
    const kc = loadKubeConfig(k8s, config.enrich.kubernetes.kubeconfig);
    if (kc === null) {
      return {
        status: 'warn',
        name: 'kubernetes',
        detail:
          'no credentials (in-cluster, enrich.kubernetes.kubeconfig, KUBECONFIG): CRI alone will name pods',
        hint: 'run in the DaemonSet with its ServiceAccount, or set KUBECONFIG',
      };
    }
    const node = config.nodeName ?? hostname();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, limit: 1 });
    const server = kc.getCurrentCluster()?.server ?? '?';
    const detail = `${server}: can list pods on node ${node}`;
    if (!config.enrich.kubernetes.resolveOwners) return { status: 'ok', name: 'kubernetes', detail };
    // Owners are named GETs: ask whether they are allowed (no object name is known here).
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const denied: string[] = [];
    for (const [group, resource] of OWNER_RESOURCES) {
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb: 'get', group, resource } } },
      });
      if (review.status?.allowed !== true) denied.push(`get ${resource}`);
    }
    if (denied.length > 0)
      return {
        status: 'warn',
        name: 'kubernetes',
        detail: `${detail}; denied: ${denied.join(', ')} — events name the ReplicaSet / Job but not the Deployment / CronJob`,
        hint: 'grant get on replicasets (apps) and jobs (batch) in the ClusterRole (deploy/kubernetes/clusterrole.yaml)',
      };
    return { status: 'ok', name: 'kubernetes', detail: `${detail}, get replicasets and jobs` };
  } catch (err) {
    return {
      status: 'warn',
      name: 'kubernetes',
      detail: errorMessage(err),
      hint: 'check the API server address and that the ClusterRole grants list/watch on pods and get on replicasets and jobs',
    };
  }
}

function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (err: string | null): void => {
      s.destroy();
      resolve(err);
    };
    s.setTimeout(timeoutMs, () => done('timed out'));
    s.once('connect', () => done(null));
    s.once('error', (e) => done(errorMessage(e)));
  });
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

/** Whether each enabled sink's endpoint accepts a TCP connection (the sinks retry and buffer when not). */
export async function sinkChecks(
  config: PodtraceConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  if (config.sinks.otlp.enabled) {
    for (const signal of config.sinks.otlp.signals) {
      const t = resolveOtlpTarget(config.sinks.otlp, env, signal);
      const name = signal === 'traces' ? 'sink otlp' : `sink otlp ${signal}`;
      const endpoint = `${t.url ?? t.endpoint} (${t.protocol}, ${t.source})`;
      const [host, port] = splitHostPort(t.address);
      const err = await tcpReachable(host, port);
      out.push(
        err === null
          ? { status: 'ok', name, detail: `${endpoint} reachable` }
          : {
              status: 'warn',
              name,
              detail: `${endpoint}: ${err}`,
              hint: `${signal === 'traces' ? 'spans' : 'log records'} queue (bounded) and retry until the Collector is reachable`,
            },
      );
    }
  }
  if (config.sinks.kafka.enabled) {
    const results = await Promise.all(
      config.sinks.kafka.brokers.map(async (b) => {
        const [host, port] = splitHostPort(b);
        return [b, await tcpReachable(host, port)] as const;
      }),
    );
    const down = results.filter(([, e]) => e !== null);
    out.push(
      down.length < results.length
        ? {
            status: down.length === 0 ? 'ok' : 'warn',
            name: 'sink kafka',
            detail: results.map(([b, e]) => `${b} ${e ?? 'reachable'}`).join(', '),
          }
        : {
            status: 'warn',
            name: 'sink kafka',
            detail: `no broker reachable: ${results.map(([b, e]) => `${b} ${e ?? ''}`).join(', ')}`,
            hint: 'records buffer (bounded) and retry until a broker answers',
          },
    );
  }
  return out;
}
