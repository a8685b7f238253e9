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

/** Where Debian's containernetworking-plugins (and the upstream tarball) put the CNI plugins. */
const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
/** The plugins of the test pod network: a veth pair per pod (ptp), host-local addresses, loopback. */
const CNI_PLUGINS = ['loopback', 'ptp', 'host-local'];

/** The directory holding the CNI plugins the test network needs, or null when they are not installed. */
export function cniPluginDir(): string | null {
  return CNI_DIRS.find((d) => CNI_PLUGINS.every((p) => existsSync(join(d, p)))) ?? null;
}

/** Why pods with their own network namespace cannot run here (null when they can). */
export function podNetworkMissing(): string | null {
  return (
    containerdMissing() ??
    (cniPluginDir() === null
      ? `CNI plugins ${CNI_PLUGINS.join(', ')} not installed (apt-get install containernetworking-plugins)`
      : null)
  );
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

/** The PodSandboxConfig runPod sends (kept to create more containers in the same pod). */
export interface TestSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt: number };
  hostname: string;
  logDirectory: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroupParent: string;
    securityContext: { namespaceOptions: { network: 'NODE' | 'POD'; pid: string; ipc: string } };
  };
}

/**
 * A private containerd for tests: its own config, root, state and socket under a temp directory
 * (never /run/containerd), CRI plugin on with `restrict_oom_score_adj` (no CAP_SYS_RESOURCE
 * needed), the native snapshotter, runc with the cgroupfs driver, the busybox image imported as
 * sandbox image, host-network pods, and pods with their own network namespace (a ptp CNI
 * network) when containernetworking-plugins is installed.
 */
export class TestContainerd {
  readonly dir = mkdtempSync(join(tmpdir(), 'pt-containerd-'));
  /** `options.socketDir`: a directory holding only the socket (to mount it into a pod as the CRI dir). */
  readonly socketDir: string;
  readonly socket: string;
  /** The pods' addresses (network: 'pod'): a /24 of 10.234.0.0/16 per instance, so parallel runs do not collide. */
  readonly podSubnet = `10.234.${Math.floor(Math.random() * 250) + 1}.0/24`;
  private proc: ChildProcess | null = null;
  /** cgroup parents of the pods created, removed (when empty) at stop. */
  private readonly cgroupParents = new Set<string>();
  cri: CriClient | null = null;

  /** runc, or a wrapper of it (see `cgroupNamespace`). */
  private readonly runcBinary: string;

  /**
   * `socketDir`: the socket alone in `<dir>/run` (to mount it into a pod as a CRI directory).
   * `cgroupNamespace`: every container gets a private cgroup namespace, as containerd's CRI gives
   * every non-privileged container on a cgroup v2-only host (on a hybrid host it gives none): runc
   * is wrapped to add the namespace to each bundle's config.json before `runc create`.
   */
  constructor(options: { socketDir?: boolean; cgroupNamespace?: boolean } = {}) {
    this.socketDir = options.socketDir === true ? join(this.dir, 'run') : this.dir;
    mkdirSync(this.socketDir, { recursive: true });
    this.socket = join(this.socketDir, 'containerd.sock');
    this.runcBinary = options.cgroupNamespace === true ? this.writeCgroupnsRunc() : 'runc';
  }

  private writeCgroupnsRunc(): string {
    const runc = which('runc') ?? 'runc';
    const edit = join(this.dir, 'add-cgroupns.js');
    writeFileSync(
      edit,
      `const fs = require('node:fs');
const file = process.argv[2];
const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
const ns = spec.linux.namespaces;
if (!ns.some((n) => n.type === 'cgroup')) ns.push({ type: 'cgroup' });
fs.writeFileSync(file, JSON.stringify(spec));
`,
    );
    const wrapper = join(this.dir, 'runc-cgroupns');
    writeFileSync(
      wrapper,
      `#!/bin/sh
bundle=""; create=0; prev=""
for a in "$@"; do
  [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ] && bundle="$a"
  [ "$a" = "create" ] && create=1
  prev="$a"
done
if [ "$create" = 1 ] && [ -n "$bundle" ]; then "${process.execPath}" "${edit}" "$bundle/config.json" || exit 1; fi
exec "${runc}" "$@"
`,
      { mode: 0o755 },
    );
    return wrapper;
  }

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
        BinaryName = "${this.runcBinary}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${d}/cni/bin"
    conf_dir = "${d}/cni/conf"
`;
  }

  /** Starts containerd, waits for CRI to answer, imports the test image. */
  async start(): Promise<void> {
    mkdirSync(join(this.dir, 'cni', 'bin'), { recursive: true });
    mkdirSync(join(this.dir, 'cni', 'conf'), { recursive: true });
    this.writePodNetwork();
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

  /**
   * The test pod network: containerd 1.6 insists on an address on the pod's eth0 ("failed to find
   * network info for sandbox" with a loopback-only network), so each pod gets a veth pair (ptp)
   * with a host-local address from a /24 picked per instance (its lease files under this
   * directory) and no masquerading. Skipped when the plugins are not installed: host-network pods
   * need no CNI.
   */
  private writePodNetwork(): void {
    const from = cniPluginDir();
    if (from === null) return;
    for (const p of CNI_PLUGINS) copyFileSync(join(from, p), join(this.dir, 'cni', 'bin', p));
    spawnSync('chmod', ['0755', ...CNI_PLUGINS.map((p) => join(this.dir, 'cni', 'bin', p))]);
    writeFileSync(
      join(this.dir, 'cni', 'conf', '10-podtrace-test.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'podtrace-test',
        plugins: [
          {
            type: 'ptp',
            ipMasq: false,
            ipam: {
              type: 'host-local',
              subnet: this.podSubnet,
              dataDir: join(this.dir, 'cni', 'leases'),
              routes: [{ dst: '0.0.0.0/0' }],
            },
          },
          { type: 'loopback' },
        ],
      }),
    );
  }

  /**
   * Creates a pod the way kubelet does (labels, cgroup parent) and starts one container. The pod
   * shares the node's network namespace unless `network: 'pod'` (its own netns with lo and eth0).
   */
  async runPod(p: {
    name: string;
    namespace: string;
    uid: string;
    cgroupParent: string;
    labels?: Record<string, string>;
    network?: 'node' | 'pod';
    hostname?: string;
    container: { name: string; command: string[] };
  }): Promise<{ sandboxId: string; containerId: string; pid: number; sandboxConfig: TestSandboxConfig }> {
    const podLabels = {
      ...p.labels,
      'io.kubernetes.pod.name': p.name,
      'io.kubernetes.pod.namespace': p.namespace,
      'io.kubernetes.pod.uid': p.uid,
    };
    const logDir = join(this.dir, 'logs', p.uid);
    mkdirSync(logDir, { recursive: true });
    const network = p.network === 'pod' ? 'POD' : 'NODE';
    const sandboxConfig: TestSandboxConfig = {
      metadata: { name: p.name, uid: p.uid, namespace: p.namespace, attempt: 0 },
      hostname: p.hostname ?? '',
      logDirectory: logDir,
      labels: podLabels,
      annotations: {},
      linux: {
        cgroupParent: p.cgroupParent,
        securityContext: { namespaceOptions: { network, pid: 'CONTAINER', ipc: 'POD' } },
      },
    };
    this.cgroupParents.add(p.cgroupParent);
    const run = await this.runSandbox(sandboxConfig);
    const started = await this.startContainer(run.podSandboxId, sandboxConfig, p.container);
    return { sandboxId: run.podSandboxId, ...started, sandboxConfig };
  }

  /**
   * RunPodSandbox, retried while the CRI plugin has not seen the imported image yet (its image
   * store follows containerd's image events asynchronously: "failed to get sandbox image").
   */
  private async runSandbox(config: TestSandboxConfig): Promise<{ podSandboxId: string }> {
    const cri = this.cri as CriClient;
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        return await cri.call<{ podSandboxId: string }>('RunPodSandbox', { config }, 60000);
      } catch (err) {
        if (!String((err as Error).message).includes('failed to get sandbox image') || Date.now() > deadline)
          throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Creates and starts one more container in a running pod (as a restart or a sidecar would). */
  async startContainer(
    sandboxId: string,
    sandboxConfig: TestSandboxConfig,
    container: { name: string; command: string[]; attempt?: number },
  ): Promise<{ containerId: string; pid: number }> {
    const cri = this.cri as CriClient;
    const m = sandboxConfig.metadata;
    const created = await cri.call<{ containerId: string }>(
      'CreateContainer',
      {
        podSandboxId: sandboxId,
        sandboxConfig,
        config: {
          metadata: { name: container.name, attempt: container.attempt ?? 0 },
          image: { image: TEST_IMAGE },
          command: container.command,
          labels: {
            'io.kubernetes.container.name': container.name,
            'io.kubernetes.pod.name': m.name,
            'io.kubernetes.pod.namespace': m.namespace,
            'io.kubernetes.pod.uid': m.uid,
          },
          logPath: `${container.name}.${container.attempt ?? 0}.log`,
          linux: {
            securityContext: { namespaceOptions: sandboxConfig.linux.securityContext.namespaceOptions },
          },
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
    return { containerId: created.containerId, pid: info.pid ?? 0 };
  }

  /**
   * Imports an image archive (docker-archive or OCI) into the CRI namespace and unpacks it for the
   * CRI's snapshotter (else the first CreateContainer unpacks it, within its deadline); returns
   * the image names.
   */
  importImage(tar: string): string[] {
    const imp = spawnSync(
      'ctr',
      ['--address', this.socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'native', tar],
      { encoding: 'utf8' },
    );
    if (imp.status !== 0) throw new Error(`ctr images import ${tar}: ${imp.stderr}`);
    return [...imp.stdout.matchAll(/^unpacking (\S+)/gm)].map((m) => m[1] as string);
  }

  /**
   * Runs a pod from the CRI configs the kubelet would send (test/helpers/kubelet-lite.ts):
   * RunPodSandbox, then CreateContainer + StartContainer for each container. A container that
   * cannot be created or started rejects with the runtime's message.
   */
  async runPodConfigs(p: {
    sandboxConfig: { linux: { cgroupParent: string } };
    containers: { name: string; config: object }[];
  }): Promise<{ sandboxId: string; containers: Map<string, string> }> {
    const cri = this.cri as CriClient;
    this.cgroupParents.add(p.sandboxConfig.linux.cgroupParent);
    const run = await cri.call<{ podSandboxId: string }>('RunPodSandbox', { config: p.sandboxConfig }, 60000);
    const containers = new Map<string, string>();
    for (const c of p.containers) {
      const created = await cri.call<{ containerId: string }>(
        'CreateContainer',
        { podSandboxId: run.podSandboxId, sandboxConfig: p.sandboxConfig, config: c.config },
        180000,
      );
      containers.set(c.name, created.containerId);
      await cri.call('StartContainer', { containerId: created.containerId }, 120000);
    }
    return { sandboxId: run.podSandboxId, containers };
  }

  /** `crictl exec`: runs a command in a running container, returns its output and exit code. */
  async execSync(
    containerId: string,
    cmd: string[],
    timeoutSeconds = 30,
  ): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const cri = this.cri as CriClient;
    const r = await cri.call<{ stdout: Buffer; stderr: Buffer; exitCode: number }>(
      'ExecSync',
      { containerId, cmd, timeout: timeoutSeconds },
      (timeoutSeconds + 10) * 1000,
    );
    return { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), exitCode: r.exitCode };
  }

  /** A container's state, exit code and pid (0 once it has exited). */
  async containerState(containerId: string): Promise<{ state: string; exitCode: number; pid: number }> {
    const cri = this.cri as CriClient;
    const st = await cri.call<{
      status: { state: string; exitCode: number };
      info: Record<string, string>;
    }>('ContainerStatus', { containerId, verbose: true });
    const info = JSON.parse(st.info.info ?? '{}') as { pid?: number };
    return { state: st.status.state, exitCode: st.status.exitCode, pid: info.pid ?? 0 };
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
