import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { CriClient } from '../../src/enrich/cri/cri-client';
import { cgroupContainerPid, findContainerCgroup } from '../../src/exec/container-process';
import { TestContainerd, podNetworkMissing } from '../helpers/containerd';
import { outcome, runPodtrace, spawnPodtrace } from '../helpers/podtrace-cli';
import { describeIf } from '../helpers/prereq';

const NODE = 'node-exec';

/** Interface names of `ip -o link` output (`2: eth0@if7: <…>` → `eth0`). */
function linkNames(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (l.split(':')[1] ?? '').trim().split('@')[0] as string);
}

describeIf(podNetworkMissing())('podtrace exec on a real containerd pod', () => {
  const containerd = new TestContainerd();
  let env: NodeJS.ProcessEnv;
  let web: { sandboxId: string; containerId: string; pid: number };
  let hostnet: { sandboxId: string; containerId: string; pid: number };

  beforeAll(async () => {
    await containerd.start();
    env = { PODTRACE_CRI_ENDPOINT: containerd.endpoint, NODE_NAME: NODE, PODTRACE_LOG_LEVEL: 'error' };
    const webUid = randomUUID();
    web = await containerd.runPod({
      name: 'web-0',
      namespace: 'shop',
      uid: webUid,
      cgroupParent: `/kubepods/besteffort/pod${webUid}`,
      network: 'pod',
      hostname: 'web-0',
      container: { name: 'app', command: ['/bin/sleep', '3600'] },
    });
    const hostUid = randomUUID();
    hostnet = await containerd.runPod({
      name: 'agent-x1',
      namespace: 'infra',
      uid: hostUid,
      cgroupParent: `/kubepods/besteffort/pod${hostUid}`,
      container: { name: 'agent', command: ['/bin/sleep', '3600'] },
    });
  }, 120_000);

  afterAll(async () => {
    await containerd.stop();
  }, 120_000);

  it('runs the host ip in the pod network namespace: only the pod interfaces (lo, eth0) and its address', async () => {
    expect(readlinkSync(`/proc/${web.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    const host = linkNames(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout);
    const r = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--', 'ip', '-o', 'link'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(linkNames(r.stdout)).toEqual(['lo', 'eth0']);
    expect(host.some((n) => n !== 'lo' && n !== 'eth0')).toBe(true);
    const cri = new CriClient(containerd.endpoint, 5000);
    const ip = (await cri.podSandboxStatus(web.sandboxId)).network?.ip ?? '';
    cri.close();
    expect(ip).toMatch(/^10\.234\./);
    const addr = await runPodtrace(
      ['exec', '-n', 'shop', 'web-0', '--', 'ip', '-o', '-4', 'addr', 'show', 'eth0'],
      env,
    );
    expect(addr.stdout).toContain(`inet ${ip}/`);
  });

  it('shows the pod hostname (uts) and passes the exit code, stdin and arguments through untouched', async () => {
    const h = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--', 'hostname'], env);
    expect(h.stdout.trim()).toBe('web-0');
    expect(spawnSync('hostname', { encoding: 'utf8' }).stdout.trim()).not.toBe('web-0');
    const fail = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--', 'sh', '-c', 'exit 7'], env);
    expect(fail.code).toBe(7);
    const cat = await runPodtrace(['exec', '-n', 'shop', 'web-0', '-c', 'app', '--', 'cat'], env, {
      input: 'line one\nline two\n',
    });
    expect(cat.stdout).toBe('line one\nline two\n');
    const args = await runPodtrace(
      ['exec', '-n', 'shop', 'web-0', '--', 'sh', '-c', 'printf "%s|" "$@"', 'sh', 'a b', '', '--ns', '-n'],
      env,
    );
    expect(args.stdout).toBe('a b||--ns|-n|');
  });

  it('forwards SIGTERM to the command and exits like it (128 + 15)', async () => {
    const child = spawnPodtrace(
      ['exec', '-n', 'shop', 'web-0', '--', 'sh', '-c', 'echo started; exec sleep 60'],
      env,
    );
    const done = outcome(child);
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('started')) resolve();
      }),
    );
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(143);
  });

  it('with --ns mnt runs a command from the container image; a command not in the image is a clear error', async () => {
    const r = await runPodtrace(
      ['exec', '-n', 'shop', 'web-0', '--ns', 'mnt,uts', '--', 'cat', '/etc/podtrace-test'],
      env,
    );
    expect(r.stdout).toBe('hello from the test image\n');
    const missing = await runPodtrace(
      ['exec', '-n', 'shop', 'web-0', '--ns', 'mnt', '--', 'ip', 'link'],
      env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'podtrace: command "ip" not found in the filesystem of container "app" (with --ns mnt the command must exist in the container\'s image)\n',
    );
  });

  it('says that net is the host network for a host-network pod', async () => {
    const r = await runPodtrace(['exec', '-n', 'infra', 'agent-x1', '--', 'hostname'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "pod infra/agent-x1 uses the host network: net is the node's own network namespace",
    );
    expect(r.stdout.trim()).toBe(spawnSync('hostname', { encoding: 'utf8' }).stdout.trim());
  });

  it('fails with one line for a missing pod, a container not in the pod and an unknown namespace kind', async () => {
    const nope = await runPodtrace(['exec', '-n', 'shop', 'nope-0', '--', 'true'], env);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(
      /^podtrace: pod "nope-0" not found in namespace "shop" on this node \(CRI containerd at unix:\/\/.*no Kubernetes credentials.*\)\n$/,
    );
    const other = await runPodtrace(['exec', '-n', 'shop', 'web-0', '-c', 'sidecar', '--', 'true'], env);
    expect(other.code).toBe(1);
    expect(other.stderr).toBe('podtrace: container "sidecar" is not in pod shop/web-0 (containers: app)\n');
    const kind = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--ns', 'net,user', '--', 'true'], env);
    expect(kind.code).toBe(2);
    expect(kind.stderr.split('\n')[0]).toBe(
      'podtrace: --ns: "user" is not a namespace kind (one of net, uts, ipc, pid, mnt, cgroup)',
    );
  });

  it('names CAP_SYS_ADMIN when it is not effective (dropped from the bounding set)', async () => {
    const r = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--', 'true'], env, {
      prefix: ['setpriv', '--bounding-set', '-sys_admin', '--'],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^podtrace: podtrace exec needs CAP_SYS_ADMIN to enter namespaces \(setns\) of pid \d+/,
    );
  });

  it('finds the same process from the container cgroup (cgroup.procs) as the runtime gives', () => {
    const dir = findContainerCgroup('/sys/fs/cgroup', web.containerId);
    expect(dir).toContain(web.containerId);
    expect(cgroupContainerPid(dir as string, '/proc')).toBe(web.pid);
  });

  it('says the pod is not running once its sandbox is stopped', async () => {
    await containerd.removePod(hostnet.sandboxId);
    const cri = new CriClient(containerd.endpoint, 5000);
    await cri.call('StopPodSandbox', { podSandboxId: web.sandboxId }, 60000);
    cri.close();
    const r = await runPodtrace(['exec', '-n', 'shop', 'web-0', '--', 'true'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^podtrace: pod shop\/web-0 is not running \(its sandbox on unix:\/\/.* is not ready\)\n$/,
    );
  });
});
