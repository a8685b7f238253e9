/** Kubernetes QoS class as encoded in the cgroup path (guaranteed pods have no QoS level). */
export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

/** What a cgroup2 path says about the processes inside it. */
export type CgroupClass =
  | {
      kind: 'container';
      /** Full 64-hex container id. */
      containerId: string;
      /** Runtime named by the path (`containerd`, `cri-o`, `docker`), null for the cgroupfs bare-id form. */
      runtime: string | null;
      /** Pod uid with dashes, null for containers outside kubepods. */
      podUid: string | null;
      qos: QosClass | null;
    }
  /** A process directly in a pod's cgroup (not in one of its containers). */
  | { kind: 'pod'; podUid: string; qos: QosClass | null }
  /** CRI-O's `conmon` monitor of a container: runtime infrastructure, not the container. */
  | { kind: 'monitor'; containerId: string; podUid: string | null }
  /** The root cgroup, system slices, user sessions: everything that is not a container. */
  | { kind: 'host' };

const HEX64 = '[0-9a-f]{64}';
/** `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope` (systemd driver) or the same without `.scope` (cgroupfs). */
const RUNTIME_SCOPE = new RegExp(
  `^(cri-containerd|crio|docker|containerd|cri-dockerd)-(${HEX64})(?:\\.scope)?$`,
);
const CONMON_SCOPE = new RegExp(`^crio-conmon-(${HEX64})(?:\\.scope)?$`);
const BARE_ID = new RegExp(`^(${HEX64})$`);
/** cgroupfs pod directory: `pod<uid>` (uid with dashes, or 32 hex for static pods). */
const CGROUPFS_POD = /^pod([0-9a-f][0-9a-f-]{15,63})$/;
/**
 * systemd pod slice: `kubepods-pod<uid>.slice`, `kubepods-burstable-pod<uid>.slice` (uid with `_`).
 * With a non-root `--cgroup-root` (say `/custom.slice`) every slice below it carries the root's name
 * as a prefix: `custom-kubepods-burstable-pod<uid>.slice`.
 */
const SYSTEMD_POD = /^(?:.+-)?kubepods(?:-(burstable|besteffort))?-pod([0-9a-f][0-9a-f_]{15,63})\.slice$/;
/** The kubepods slice itself, prefixed or not (`kubepods.slice`, `custom-kubepods.slice`). */
const SYSTEMD_KUBEPODS = /^(?:.+-)?kubepods\.slice$/;
const SYSTEMD_QOS = /^(?:.+-)?kubepods-(burstable|besteffort)\.slice$/;
const QOS_SEGMENTS: Readonly<Record<string, QosClass>> = {
  burstable: 'burstable',
  besteffort: 'besteffort',
};

function qosSegment(seg: string | undefined): QosClass | undefined {
  if (seg === undefined) return undefined;
  const q = QOS_SEGMENTS[seg];
  if (q !== undefined) return q;
  const sd = SYSTEMD_QOS.exec(seg);
  return sd === null ? undefined : (sd[1] as QosClass);
}

const RUNTIME_NAMES: Readonly<Record<string, string>> = {
  'cri-containerd': 'containerd',
  containerd: 'containerd',
  crio: 'cri-o',
  docker: 'docker',
  'cri-dockerd': 'docker',
};

/** systemd escapes `-` in unit names, so pod slices carry the uid with `_`: convert it back. */
export function podUidFromSystemd(escaped: string): string {
  return escaped.replace(/_/g, '-');
}

function containerSegment(seg: string): { id: string; runtime: string | null } | 'monitor' | null {
  if (CONMON_SCOPE.test(seg)) return 'monitor';
  const scoped = RUNTIME_SCOPE.exec(seg);
  if (scoped) return { id: scoped[2] as string, runtime: RUNTIME_NAMES[scoped[1] as string] ?? null };
  const bare = BARE_ID.exec(seg);
  if (bare) return { id: bare[1] as string, runtime: null };
  return null;
}

function podSegment(seg: string): { uid: string; qos: QosClass | null } | null {
  const fs = CGROUPFS_POD.exec(seg);
  if (fs) return { uid: fs[1] as string, qos: null };
  const sd = SYSTEMD_POD.exec(seg);
  if (sd) return { uid: podUidFromSystemd(sd[2] as string), qos: (sd[1] as QosClass | undefined) ?? null };
  return null;
}

/**
 * Classifies a cgroup2 path (as in `/proc/<pid>/cgroup`'s `0::` line, relative to the cgroup2 mount).
 * Works for every kubelet layout without knowing the driver: the systemd and cgroupfs drivers,
 * all QoS classes, containerd / CRI-O / docker naming, any `--cgroup-root` prefix (the last
 * `kubepods` segment anchors the match), k3s and microk8s (same layouts), and nested cgroups below
 * a container (CRI-O's `.../crio-<id>.scope/container`).
 */
export function classifyCgroupPath(path: string): CgroupClass {
  const segs = path.split('/').filter((s) => s.length > 0);
  let anchor = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i] as string;
    if (seg === 'kubepods' || SYSTEMD_KUBEPODS.test(seg)) {
      anchor = i;
      break;
    }
  }
  if (anchor >= 0) {
    let i = anchor + 1;
    let qos: QosClass | null = null;
    const q = qosSegment(segs[i]);
    if (q !== undefined) {
      qos = q;
      i++;
    }
    const podSeg = segs[i];
    const pod = podSeg === undefined ? null : podSegment(podSeg);
    if (pod === null) return { kind: 'host' };
    qos ??= pod.qos ?? 'guaranteed';
    const cseg = segs[i + 1];
    if (cseg === undefined) return { kind: 'pod', podUid: pod.uid, qos };
    const c = containerSegment(cseg);
    if (c === 'monitor')
      return {
        kind: 'monitor',
        containerId: (CONMON_SCOPE.exec(cseg) as RegExpExecArray)[1] as string,
        podUid: pod.uid,
      };
    if (c === null) return { kind: 'pod', podUid: pod.uid, qos };
    return { kind: 'container', containerId: c.id, runtime: c.runtime, podUid: pod.uid, qos };
  }
  // Outside kubepods: plain docker/containerd containers (`/system.slice/docker-<id>.scope`, `/docker/<id>`).
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i] as string;
    const c = containerSegment(seg);
    if (c === 'monitor')
      return {
        kind: 'monitor',
        containerId: (CONMON_SCOPE.exec(seg) as RegExpExecArray)[1] as string,
        podUid: null,
      };
    if (c !== null && (c.runtime !== null || segs[i - 1] === 'docker')) {
      return {
        kind: 'container',
        containerId: c.id,
        runtime: c.runtime ?? 'docker',
        podUid: null,
        qos: null,
      };
    }
  }
  return { kind: 'host' };
}
