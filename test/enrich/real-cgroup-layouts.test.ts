import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { detectCgroupLayout } from '../../src/enrich/check';
import { KubeApiServer, podObject } from '../helpers/kube-api-server';
import { describeIf, isRoot } from '../helpers/prereq';
import { FakeCriServer } from './fake-cri-server';
import { Harness, enrichConfig, execEvent, until } from './enrich-fixtures';

const NODE = 'node-layouts';

function cgroupMissing(): string | null {
  if (!isRoot()) return 'real cgroup layout tests need root (they create cgroup2 directories)';
  const mount = detectCgroup2Mount('');
  if (mount === null) return 'no cgroup2 hierarchy mounted';
  try {
    accessSync(mount.base, constants.W_OK);
  } catch {
    return `${mount.base} is not writable`;
  }
  return null;
}

/** A real cgroup2 directory with a real `sleep` moved into it; removed afterwards. */
class RealCgroup {
  readonly proc: ChildProcess;
  readonly id: number;
  constructor(
    readonly base: string,
    readonly path: string,
  ) {
    mkdirSync(join(base, path), { recursive: true });
    this.id = statSync(join(base, path)).ino;
    this.proc = spawn('sleep', ['600'], { stdio: 'ignore' });
    writeFileSync(join(base, path, 'cgroup.procs'), String(this.proc.pid));
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  async remove(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGKILL');
      await gone;
    }
  }
}

describeIf(cgroupMissing())('PodEnricher on real cgroup2 layouts', () => {
  const mount = detectCgroup2Mount('');
  const base = mount?.base ?? '/sys/fs/cgroup';
  // A kubelet --cgroup-root of our own, so nothing here collides with a real kubelet or another test.
  const root = `/podtrace-layout-${randomBytes(4).toString('hex')}`;
  const bottlerocketUid = randomUUID();
  const crioUid = randomUUID();
  const brId = randomBytes(32).toString('hex');
  const crioId = randomBytes(32).toString('hex');
  const cgroups: RealCgroup[] = [];
  let sockDir: string;
  let cri: FakeCriServer;
  let api: KubeApiServer;
  let h: Harness;
  let bottlerocket: RealCgroup;
  let crio: RealCgroup;
  let conmon: RealCgroup;

  beforeAll(async () => {
    bottlerocket = new RealCgroup(base, `${root}/kubepods/burstable/pod${bottlerocketUid}/${brId}`);
    const slice = `${root}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${crioUid.replace(/-/g, '_')}.slice`;
    crio = new RealCgroup(base, `${slice}/crio-${crioId}.scope`);
    conmon = new RealCgroup(base, `${slice}/crio-conmon-${crioId}.scope`);
    cgroups.push(bottlerocket, crio, conmon);
    sockDir = mkdtempSync(join(tmpdir(), 'pt-cri-'));
    cri = new FakeCriServer(join(sockDir, 'cri.sock'));
    cri.addPod({ id: 'b'.repeat(64), name: 'br-pod', namespace: 'bottlerocket', uid: bottlerocketUid }, [
      { id: brId, name: 'br', image: 'public.ecr.aws/x/br:1' },
    ]);
    cri.addPod({ id: 'c'.repeat(64), name: 'crio-pod', namespace: 'openshift', uid: crioUid }, [
      { id: crioId, name: 'cr', image: 'quay.io/x/cr:1' },
    ]);
    await cri.start();
    api = new KubeApiServer();
    await api.start();
    api.upsert(
      '/api/v1/pods',
      podObject({
        name: 'br-pod',
        namespace: 'bottlerocket',
        uid: bottlerocketUid,
        nodeName: NODE,
        owner: { kind: 'DaemonSet', name: 'agent' },
      }),
    );
    api.upsert(
      '/api/v1/pods',
      podObject({
        name: 'crio-pod',
        namespace: 'openshift',
        uid: crioUid,
        nodeName: NODE,
        owner: { kind: 'StatefulSet', name: 'store' },
      }),
    );
    h = new Harness(
      enrichConfig({ cri: { endpoint: cri.endpoint }, kubernetes: { kubeconfig: api.writeKubeconfig() } }),
      undefined,
      NODE,
    );
    await h.enricher.start();
    await until(() => h.enricher.cri.connected && h.enricher.kube.synced, 'synced');
  });

  afterAll(async () => {
    h?.input.complete();
    await h?.enricher.shutdown();
    for (const c of cgroups) await c.remove();
    // Remove the tree bottom-up (deepest paths first).
    const dirs = new Set<string>();
    for (const c of cgroups) {
      const segs = c.path.split('/').filter((s) => s !== '');
      for (let n = segs.length; n > 0; n--) dirs.add(`/${segs.slice(0, n).join('/')}`);
    }
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(join(base, d));
      } catch {
        // already gone
      }
    }
    await cri?.stop();
    await api?.stop();
    rmSync(sockDir, { recursive: true, force: true });
  });

  it('attributes a process in a cgroupfs (Bottlerocket) container cgroup under a --cgroup-root prefix', async () => {
    const before = h.out.length;
    h.push([execEvent(bottlerocket.id, bottlerocket.pid)]);
    await until(() => h.out.length === before + 1, 'event out');
    expect(h.out[before]?.enrichment).toBe('complete');
    expect(h.out[before]?.meta?.attributes).toMatchObject({
      'k8s.namespace.name': 'bottlerocket',
      'k8s.pod.name': 'br-pod',
      'k8s.pod.uid': bottlerocketUid,
      'k8s.container.name': 'br',
      'container.id': brId,
      'k8s.daemonset.name': 'agent',
      'service.name': 'agent',
    });
  });

  it('attributes a process in a CRI-O systemd scope and the conmon beside it to the host', async () => {
    const before = h.out.length;
    h.push([execEvent(crio.id, crio.pid), execEvent(conmon.id, conmon.pid)]);
    await until(() => h.out.length === before + 2, 'events out');
    const byId = new Map(h.out.slice(before).map((e) => [e.cgroupId, e]));
    expect(byId.get(crio.id)?.meta?.attributes).toMatchObject({
      'k8s.namespace.name': 'openshift',
      'k8s.pod.uid': crioUid,
      'k8s.container.name': 'cr',
      'container.id': crioId,
      'k8s.statefulset.name': 'store',
    });
    expect(byId.get(conmon.id)?.meta?.host).toBe(true);
  });

  it('finds a cgroup by the inode index when the event has no usable pid', async () => {
    const scansBefore = h.enricher.resolver?.scans ?? 0;
    const walkBefore = await h.resolutions('walk');
    const procBefore = await h.resolutions('proc');
    const fresh = new RealCgroup(base, `${root}/kubepods/burstable/pod${bottlerocketUid}/${'e'.repeat(64)}`);
    cgroups.push(fresh);
    const before = h.out.length;
    h.push([execEvent(fresh.id, 0)]);
    await until(() => h.out.length === before + 1, 'event out');
    // Found by a walk of the tree (other pending lookups may share or add walks under load).
    expect(h.enricher.resolver?.scans).toBeGreaterThan(scansBefore);
    expect(await h.resolutions('walk')).toBe(walkBefore + 1);
    expect(await h.resolutions('proc')).toBe(procBefore);
    expect(h.out[before]?.meta?.attributes).toMatchObject({
      'container.id': 'e'.repeat(64),
      'k8s.pod.uid': bottlerocketUid,
    });
    expect(h.out[before]?.enrichment).toBe('partial');
  });

  it('reports the cgroup2 mount for podtrace check', () => {
    const r = detectCgroupLayout({
      cgroupBase: '',
      procBase: '/proc',
      kubelet: { cgroupDriver: 'systemd', cgroupRoot: '', detect: true },
    });
    expect(r.mount).toBe(base);
    expect(r.hybrid).toBe(base.endsWith('/unified'));
    expect(r.kubelet.cgroupDriver).toBe('systemd');
    expect(r.kubelet.cgroupDriverSource).toBe('override');
  });
});
