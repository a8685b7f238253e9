import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../src/enrich/cri/cri-client';

/** The image every test pod and sandbox uses: busybox-static, built locally (no registry is reachable). */
export const TEST_IMAGE = 'podtrace.local/busybox:test';
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'sleep', 'cat', 'nc', 'wget', 'echo', 'true', 'ls', 'hostname'];

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function busyboxPath(): string | null {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    // Only a static busybox runs inside an image without a libc.
    const r = spawnSync('sh', ['-c', `ldd ${p} 2>&1`], { encoding: 'utf8' });
    if (/not a dynamic executable|statically linked/.test(r.stdout)) return p;
  }
  return null;
}

/** Why a real containerd cannot run here (null when it can). */
export function containerdMissing(): string | null {
  if (process.getuid?.() !== 0) return 'real containerd tests need root';
  for (const bin of ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'tar']) {
    if (which(bin) === null) return `${bin} not installed (apt-get install containerd runc busybox-static)`;
  }
  if (busyboxPath() === null) return 'static busybox not installed (apt-get install busybox-static)';
  if (
    !existsSync('/sys/fs/cgroup/cgroup.controllers') &&
    !existsSync('/sys/fs/cgroup/unified/cgroup.controllers')
  )
    return 'no cgroup2 hierarchy mounted';
  return null;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Builds a docker-archive tar of a one-layer image holding busybox and its applet links. */
export function buildBusyboxImage(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'podtrace-test'), 'hello from the test image\n');
  copyFileSync(busyboxPath() as string, join(rootfs, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  const img = join(dir, 'image');
  mkdirSync(img, { recursive: true });
  const layerTar = join(img, 'layer.tar');
  const t = spawnSync(
    'tar',
    ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTar, '.'],
    { encoding: 'utf8' },
  );
  if (t.status !== 0) throw new Error(`tar layer: ${t.stderr}`);
  const layerDigest = sha256(readFileSync(layerTar));
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sleep', '2147483647'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    }),
  );
  const configName = `${sha256(config)}.json`;
  writeFileSync(join(img, configName), config);
  writeFileSync(
    join(img, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [TEST_IMAGE], Layers: ['layer.tar'] }]),
  );
  const out = join(dir, 'busybox-image.tar');
  const t2 = spawnSync('tar', ['-C', img, '-cf', out, 'manifest.json', configName, 'layer.tar'], {
    encoding: 'utf8',
  });
  if (t2.status !== 0) throw new Error(`tar image: ${t2.stderr}`);
  return out;
}

/**
 * A private containerd for tests: its own config, root, state and socket under a temp directory
 * (never /run/containerd), CRI plugin on with `restrict_oom_score_adj` (no CAP_SYS_RESOURCE
 * needed), the native snapshotter, runc with the cgroupfs driver, the busybox image imported as
 * sandbox image, host-network pods only (no CNI).
 */
export class TestContainerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'pt-containerd-'));
  readonly socket = join(this.dir, 'containerd.sock');
  private proc: ChildProcess | null = null;
  /** cgroup parents of the pods created, removed (when empty) at stop. */
  private readonly cgroupParents = new Set<string>();
  cri: CriClient | null = null;

  get endpoint(): string {
    return `unix://${this.socket}`;
  }

  private config(): string {
    const d = this.dir;
    return `version = 2
root = "${d}/root"
state = "${d}/state"
plugin_dir = "${d}/plugins"

[grpc]
  address = "${this.socket}"

[ttrpc]
  address = "${this.socket}.ttrpc"

[debug]
  address = "${d}/debug.sock"
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${TEST_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${d}/cni/bin"
    conf_dir = "${d}/cni/conf"
`;
  }

  /** Starts containerd, waits for CRI to answer, imports the test image. */
  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'cni', 'bin'), { recursive: true });
    mkdirSync(join(this.dir, 'cni', 'conf'), { recursive: true });
    const cfg = join(this.dir, 'config.toml');
    writeFileSync(cfg, this.config());
    const log = join(this.dir, 'containerd.log');
    const { openSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    this.proc = spawn('containerd', ['--config', cfg], { stdio: ['ignore', fd, fd], detached: false });
    this.cri = new CriClient(this.endpoint, 5000);
    const deadline = Date.now() + 30000;
    for (;;) {
      if (this.proc.exitCode !== null)
        throw new Error(
          `containerd exited (${this.proc.exitCode}): ${readFileSync(log, 'utf8').slice(-2000)}`,
        );
      if (existsSync(this.socket)) {
        try {
          await this.cri.version();
          break;
        } catch {
          // CRI plugin still starting
        }
      }
      if (Date.now() > deadline)
        throw new Error(`containerd CRI did not answer: ${readFileSync(log, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const tar = buildBusyboxImage(join(this.dir, 'image-build'));
    const imp = spawnSync(
      'ctr',
      ['--address', this.socket, '-n', 'k8s.io', 'images', 'import', '--no-unpack', tar],
      { encoding: 'utf8' },
    );
    if (imp.status !== 0) throw new Error(`ctr images import: ${imp.stderr}`);
  }

  /** Creates a host-network pod the way kubelet does (labels, cgroup parent) and starts one container. */
  async runPod(p: {
    name: string;
    namespace: string;
    uid: string;
    cgroupParent: string;
    labels?: Record<string, string>;
    container: { name: string; command: string[] };
  }): Promise<{ sandboxId: string; containerId: string; pid: number }> {
    const cri = this.cri as CriClient;
    const podLabels = {
      ...p.labels,
      'io.kubernetes.pod.name': p.name,
      'io.kubernetes.pod.namespace': p.namespace,
      'io.kubernetes.pod.uid': p.uid,
    };
    const logDir = join(this.dir, 'logs', p.uid);
    mkdirSync(logDir, { recursive: true });
    const sandboxConfig = {
      metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
      hostname: '',
      logDirectory: logDir,
      labels: podLabels,
      annotations: {},
      linux: {
        cgroupParent: p.cgroupParent,
        securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
      },
    };
    this.cgroupParents.add(p.cgroupParent);
    const run = await cri.call<{ podSandboxId: string }>('RunPodSandbox', { config: sandboxConfig }, 60000);
    const created = await cri.call<{ containerId: string }>(
      'CreateContainer',
      {
        podSandboxId: run.podSandboxId,
        sandboxConfig,
        config: {
          metadata: { name: p.container.name, attempt: 0 },
          image: { image: TEST_IMAGE },
          command: p.container.command,
          labels: {
            'io.kubernetes.container.name': p.container.name,
            'io.kubernetes.pod.name': p.name,
            'io.kubernetes.pod.namespace': p.namespace,
            'io.kubernetes.pod.uid': p.uid,
          },
          logPath: `${p.container.name}.log`,
          linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
        },
      },
      60000,
    );
    await cri.call('StartContainer', { containerId: created.containerId }, 60000);
    const st = await cri.call<{ info: Record<string, string> }>('ContainerStatus', {
      containerId: created.containerId,
      verbose: true,
    });
    const info = JSON.parse(st.info.info ?? '{}') as { pid?: number };
    return { sandboxId: run.podSandboxId, containerId: created.containerId, pid: info.pid ?? 0 };
  }

  async removePod(sandboxId: string): Promise<void> {
    const cri = this.cri as CriClient;
    await cri.call('StopPodSandbox', { podSandboxId: sandboxId }, 60000).catch(() => undefined);
    await cri.call('RemovePodSandbox', { podSandboxId: sandboxId }, 60000).catch(() => undefined);
  }

  async stop(): Promise<void> {
    const cri = this.cri;
    if (cri !== null) {
      try {
        for (const s of await cri.listPodSandbox()) await this.removePod(s.id);
      } catch {
        // containerd already gone
      }
      cri.close();
    }
    const p = this.proc;
    this.proc = null;
    if (p !== null && p.exitCode === null) {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    // Mounts of the native snapshotter are plain directories; shims exit with their containers.
    spawnSync('sh', [
      '-c',
      `grep -F ' ${this.dir}/' /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`,
    ]);
    rmSync(this.dir, { recursive: true, force: true });
    // runc creates the pod-level parents (kubelet would own them): remove them and their empty
    // ancestors in every hierarchy; rmdir fails harmlessly on a cgroup still in use.
    const hierarchies = existsSync('/sys/fs/cgroup/cgroup.controllers')
      ? ['/sys/fs/cgroup']
      : readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
    for (const parent of this.cgroupParents) {
      const segs = parent.split('/').filter((x) => x !== '');
      for (let n = segs.length; n > 0; n--) {
        for (const h of hierarchies) {
          try {
            rmdirSync(join(h, ...segs.slice(0, n)));
          } catch {
            // not there, or not empty
          }
        }
      }
    }
  }
}
