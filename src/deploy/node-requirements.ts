import { QUEUE_DIR_BASE } from '../sinks/exporter/queue-storage';
import { DEFAULT_TELEMETRY_PORT } from '../telemetry/telemetry-config';

/**
 * What podtrace needs from a node, in one place. The DaemonSet (deploy/kubernetes/daemonset.yaml),
 * the Helm chart and deploy/README.md follow this file; test/deploy/*.test.ts fails when they
 * drift from it. Change a requirement here first.
 */

export interface CapabilityDecision {
  /** Linux capability without the CAP_ prefix, as Kubernetes spells it. */
  name: string;
  granted: boolean;
  reason: string;
}

/** Every capability the seeds asked for (BPF, SYS_ADMIN, SYS_RESOURCE, NET_ADMIN) plus PERFMON, decided one by one. */
export const CAPABILITIES: readonly CapabilityDecision[] = [
  {
    name: 'BPF',
    granted: true,
    reason: 'bpf(): load the programs, create the ring buffer and maps, load BTF (kernel >= 5.8)',
  },
  {
    name: 'PERFMON',
    granted: true,
    reason:
      'attach tracepoint programs (perf_event_open / bpf_link) and use the tracing helpers that read kernel memory (kernel >= 5.8)',
  },
  {
    name: 'SYS_RESOURCE',
    granted: true,
    reason:
      'kernels before 5.11 (Amazon Linux 2: 5.10) charge BPF maps to RLIMIT_MEMLOCK; libbpf raises it to unlimited, which needs this capability',
  },
  {
    name: 'SYS_ADMIN',
    granted: false,
    reason:
      'not needed: every supported node runs kernel >= 5.8 where BPF+PERFMON replace it for tracepoints and ring buffers, and what podtrace reads of other processes (/proc/<pid>/cgroup, stat, cmdline) is world-readable. Kernels < 5.8 or container runtimes that do not know CAP_BPF need it: Helm value securityContext.extraCapabilities',
  },
  {
    name: 'NET_ADMIN',
    granted: false,
    reason: 'not needed: no XDP, tc or socket filters; the tcp probes are tracepoints',
  },
  {
    name: 'SYS_PTRACE',
    granted: false,
    reason: "not needed: podtrace reads no other process's environ, fds, memory or namespace links",
  },
];

export function grantedCapabilities(): string[] {
  return CAPABILITIES.filter((c) => c.granted).map((c) => c.name);
}

export interface HostMount {
  /** Volume name in the pod spec. */
  volume: string;
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  /** Kubernetes hostPath type check. */
  type: 'Directory' | 'DirectoryOrCreate';
  reason: string;
}

export const HOST_MOUNTS: readonly HostMount[] = [
  {
    volume: 'cgroup',
    hostPath: '/sys/fs/cgroup',
    mountPath: '/sys/fs/cgroup',
    readOnly: true,
    type: 'Directory',
    reason:
      "the host's cgroup tree, to map a kernel cgroup id (directory inode) to its pod and container; the container's own /sys/fs/cgroup shows only its own cgroup",
  },
  {
    volume: 'host-proc',
    hostPath: '/proc',
    mountPath: '/host/proc',
    readOnly: true,
    type: 'Directory',
    reason:
      "the host's processes (/proc/<pid>/cgroup for processes seen before their cgroup was indexed, the kubelet's command line for its cgroup driver and root); beside, not over, the container's own /proc",
  },
  {
    volume: 'btf',
    hostPath: '/sys/kernel/btf',
    mountPath: '/sys/kernel/btf',
    readOnly: true,
    type: 'Directory',
    reason:
      'kernel BTF (/sys/kernel/btf/vmlinux): CO-RE relocations adapt the compiled programs to this kernel',
  },
  {
    volume: 'bpffs',
    hostPath: '/sys/fs/bpf',
    mountPath: '/sys/fs/bpf',
    readOnly: true,
    type: 'Directory',
    reason:
      'the BPF filesystem, read-only: podtrace pins nothing today; `podtrace check` and bpftool in the pod list what is pinned. Make it read-write only if maps are ever pinned',
  },
  {
    volume: 'tracefs',
    hostPath: '/sys/kernel/tracing',
    mountPath: '/sys/kernel/tracing',
    readOnly: true,
    type: 'Directory',
    reason:
      "tracefs: libbpf reads a tracepoint's id from events/<category>/<name>/id to attach it; a container's fresh sysfs has only the empty mount point",
  },
  {
    volume: 'cri',
    hostPath: '/run/containerd',
    mountPath: '/run/containerd',
    readOnly: true,
    type: 'DirectoryOrCreate',
    reason:
      'the directory of the containerd CRI socket (the directory, not the file, so a containerd restart that recreates the socket is seen). Read-only does not restrict a Unix socket: it still accepts every CRI call, and podtrace only calls List/Status/Events',
  },
];

/**
 * The one writable host path, mounted only when the chart value `diskQueue.enabled` is set (for
 * `sinks.<sink>.queue.storage: disk`): the disk queue must outlive the pod, so an agent restart or
 * a rolling update resends what an outage left. Each sink uses its own directory under it
 * (`queue.dir` defaults to <hostPath>/<sink>); size the node's disk for every sink's
 * `queue.maxBytes` (docs/operations.md#delivery).
 */
export const DISK_QUEUE_MOUNT: HostMount = {
  volume: 'queue',
  hostPath: QUEUE_DIR_BASE,
  mountPath: QUEUE_DIR_BASE,
  readOnly: false,
  type: 'DirectoryOrCreate',
  reason:
    "the disk queue's segment files (queue.storage: disk), kept on the node across agent restarts; read-write, and the only host path that is",
};

export interface NodeEnvVar {
  name: string;
  /** A literal value, or… */
  value?: string;
  /** …a downward API field. */
  fieldPath?: string;
  reason: string;
}

/** The environment the DaemonSet sets for every node. Each name is read by src/config/environment.ts. */
export const NODE_ENV: readonly NodeEnvVar[] = [
  {
    name: 'NODE_NAME',
    fieldPath: 'spec.nodeName',
    reason: 'watch only the pods of this node (k8s.node.name)',
  },
  {
    name: 'PODTRACE_PROC_BASE',
    value: '/host/proc',
    reason: "where the host-proc volume puts the host's /proc",
  },
  {
    name: 'PODTRACE_CGROUP_BASE',
    value: '/sys/fs/cgroup',
    reason: 'the cgroup v2 mount (hybrid cgroup v1 hosts: /sys/fs/cgroup/unified)',
  },
  {
    name: 'PODTRACE_CRI_ENDPOINT',
    value: 'unix:///run/containerd/containerd.sock',
    reason: 'containerd on EKS (AL2, AL2023, Bottlerocket) and AKS (Ubuntu, Azure Linux)',
  },
];

/** The self-telemetry port the probes and Prometheus use (telemetry.listen). */
export const TELEMETRY_PORT = DEFAULT_TELEMETRY_PORT;
export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The Kubernetes API access enrichment needs, read-only: list and watch the pods of this node
 * (fieldSelector spec.nodeName), and get, by name, the owners it resolves (ReplicaSet →
 * Deployment, Job → CronJob, metadata only). No list or watch of ReplicaSets or Jobs: a node
 * agent's API cost follows its own pods, not the cluster. `podtrace check` lists pods with limit=1.
 */
export const RBAC_RULES: readonly RbacRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
];
