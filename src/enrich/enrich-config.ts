import type { JsonSchema } from '../config/schema-types';

/** How long an event whose cgroup is not resolvable yet is held before it is emitted anyway. */
export const DEFAULT_HOLD_MS = 2000;
/** Upper bound of events held at once; beyond it the oldest held event is emitted unenriched (counted). */
export const DEFAULT_HOLD_MAX_EVENTS = 65536;
/** Resolved cgroups kept in the hot-path cache. */
export const DEFAULT_MAX_CGROUPS = 65536;
/** Deleted pods and removed containers stay resolvable this long, so their last events are attributed. */
export const DEFAULT_DELETED_GRACE_SECONDS = 60;
/** Minimum time between two full walks of the cgroup tree (the inode-index fallback). */
export const DEFAULT_RESCAN_MIN_INTERVAL_MS = 1000;
export const DEFAULT_CRI_TIMEOUT_MS = 2000;
/** Periodic ListContainers when the runtime has no GetContainerEvents (and as a safety net). */
export const DEFAULT_CRI_RELIST_SECONDS = 30;
export const DEFAULT_CRI_BACKOFF_INITIAL_MS = 500;
export const DEFAULT_CRI_BACKOFF_MAX_MS = 30000;
export const DEFAULT_KUBE_BACKOFF_INITIAL_MS = 1000;
export const DEFAULT_KUBE_BACKOFF_MAX_MS = 30000;
/** A cached owner (ReplicaSet → Deployment, Job → CronJob) is looked up again after this long. */
export const DEFAULT_OWNER_TTL_SECONDS = 600;
/** Owners cached at once; a node's pods name far fewer (the least recently used is evicted past it). */
export const DEFAULT_MAX_OWNERS = 4096;
/** Pods per page of the node's pod list (client-go's reflector pages by 500 too). */
export const DEFAULT_POD_LIST_PAGE_SIZE = 500;

/**
 * The CRI endpoints tried in order when none is configured (EKS, Bottlerocket, legacy, CRI-O, k3s).
 */
export const DEFAULT_CRI_ENDPOINTS: readonly string[] = [
  'unix:///run/containerd/containerd.sock',
  'unix:///var/run/containerd/containerd.sock',
  'unix:///run/dockershim.sock',
  'unix:///run/crio/crio.sock',
  'unix:///var/run/crio/crio.sock',
  'unix:///run/k3s/containerd/containerd.sock',
];

export type CgroupDriver = 'systemd' | 'cgroupfs';

/** Which cgroup hierarchy events are attributed through: `auto` detects it at start. */
export type CgroupMode = 'auto' | 'v2' | 'v1';
export type CgroupV1Controller = 'pids' | 'memory';
export const DEFAULT_CGROUP_MODE: CgroupMode = 'auto';
/** Every task is in a pids cgroup (kubelet creates one per container on cgroup v1). */
export const DEFAULT_CGROUP_V1_CONTROLLER: CgroupV1Controller = 'pids';

export interface CriConfig {
  enabled: boolean;
  /** `unix:///path` or a plain socket path; empty: try DEFAULT_CRI_ENDPOINTS in order. */
  endpoint: string;
  timeoutMs: number;
  relistSeconds: number;
  /** Follow GetContainerEvents when the runtime implements it. */
  containerEvents: boolean;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface KubernetesConfig {
  enabled: boolean;
  /** kubeconfig file; empty: in-cluster credentials, else $KUBECONFIG, else ~/.kube/config. */
  kubeconfig: string;
  /** Pod labels copied to events as `k8s.pod.label.<key>`. */
  labels: string[];
  /** Resolve ReplicaSet → Deployment and Job → CronJob by named metadata GETs of this node's pods' owners. */
  resolveOwners: boolean;
  ownerTtlSeconds: number;
  maxOwners: number;
  /** Pods per page of the pod list (`limit` + `continue`): bounds the JSON parsed at once. */
  listPageSize: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface KubeletConfig {
  /** Override the detected kubelet cgroup driver. */
  cgroupDriver: CgroupDriver | '';
  /** Override the detected kubelet --cgroup-root. */
  cgroupRoot: string;
  /** Look for the kubelet under procBase to detect driver and root. */
  detect: boolean;
}

export interface EnrichConfig {
  enabled: boolean;
  /**
   * Mount of the attribution hierarchy; empty: detect (cgroup2: `/sys/fs/cgroup` on pure v2,
   * `/sys/fs/cgroup/unified` on hybrid; v1: the controller's mount).
   */
  cgroupBase: string;
  /** `auto`: cgroup2 unless only a v1 hierarchy holds the pods (Amazon Linux 2 on cgroup v1). */
  cgroupMode: CgroupMode;
  /** The v1 controller whose hierarchy attributes in v1 mode. */
  cgroupV1Controller: CgroupV1Controller;
  /** Where the host's /proc is visible (`/host/proc` in a DaemonSet). */
  procBase: string;
  holdMs: number;
  holdMaxEvents: number;
  maxCgroups: number;
  deletedGraceSeconds: number;
  rescanMinIntervalMs: number;
  cri: CriConfig;
  kubernetes: KubernetesConfig;
  kubelet: KubeletConfig;
}

const backoff = (initial: number, max: number): JsonSchema => ({
  backoffInitialMs: { type: 'integer', minimum: 1, maximum: 600000, default: initial },
  backoffMaxMs: { type: 'integer', minimum: 1, maximum: 3600000, default: max },
});

export const enrichSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    cgroupBase: { type: 'string', default: '' },
    cgroupMode: { enum: ['auto', 'v2', 'v1'], default: DEFAULT_CGROUP_MODE },
    cgroupV1Controller: { enum: ['pids', 'memory'], default: DEFAULT_CGROUP_V1_CONTROLLER },
    procBase: { type: 'string', minLength: 1, default: '/proc' },
    holdMs: { type: 'integer', minimum: 0, maximum: 600000, default: DEFAULT_HOLD_MS },
    holdMaxEvents: { type: 'integer', minimum: 1, maximum: 10000000, default: DEFAULT_HOLD_MAX_EVENTS },
    maxCgroups: { type: 'integer', minimum: 16, maximum: 10000000, default: DEFAULT_MAX_CGROUPS },
    deletedGraceSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 86400,
      default: DEFAULT_DELETED_GRACE_SECONDS,
    },
    rescanMinIntervalMs: {
      type: 'integer',
      minimum: 0,
      maximum: 600000,
      default: DEFAULT_RESCAN_MIN_INTERVAL_MS,
    },
    cri: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        endpoint: { type: 'string', pattern: '^(|unix://.+|/.+)$', default: '' },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 600000, default: DEFAULT_CRI_TIMEOUT_MS },
        relistSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: DEFAULT_CRI_RELIST_SECONDS },
        containerEvents: { type: 'boolean', default: true },
        ...backoff(DEFAULT_CRI_BACKOFF_INITIAL_MS, DEFAULT_CRI_BACKOFF_MAX_MS),
      },
    },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        kubeconfig: { type: 'string', default: '' },
        labels: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
        resolveOwners: { type: 'boolean', default: true },
        ownerTtlSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: DEFAULT_OWNER_TTL_SECONDS },
        maxOwners: { type: 'integer', minimum: 16, maximum: 1000000, default: DEFAULT_MAX_OWNERS },
        listPageSize: { type: 'integer', minimum: 1, maximum: 10000, default: DEFAULT_POD_LIST_PAGE_SIZE },
        ...backoff(DEFAULT_KUBE_BACKOFF_INITIAL_MS, DEFAULT_KUBE_BACKOFF_MAX_MS),
      },
    },
    kubelet: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        cgroupDriver: { enum: ['', 'systemd', 'cgroupfs'], default: '' },
        cgroupRoot: { type: 'string', default: '' },
        detect: { type: 'boolean', default: true },
      },
    },
  },
};
