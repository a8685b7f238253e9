import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectKubelet,
  findKubeletPid,
  parseKubeletConfigFile,
  parseKubeletFlags,
} from '../../src/enrich/kubelet/kubelet-detect';

/** A fake procBase: <pid>/comm, <pid>/cmdline and files under <pid>/root. */
function fakeProc(
  procs: { pid: number; comm: string; argv: string[]; files?: Record<string, string> }[],
): string {
  const dir = mkdtempSync(join(tmpdir(), 'pt-proc-'));
  for (const p of procs) {
    const d = join(dir, String(p.pid));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'comm'), `${p.comm}\n`);
    writeFileSync(join(d, 'cmdline'), `${p.argv.join('\0')}\0`);
    for (const [path, text] of Object.entries(p.files ?? {})) {
      mkdirSync(join(d, 'root', path, '..'), { recursive: true });
      writeFileSync(join(d, 'root', path), text);
    }
  }
  return dir;
}

describe('parseKubeletFlags', () => {
  it('reads --name=value and --name value forms', () => {
    const f = parseKubeletFlags(['--cgroup-driver=systemd', '--cgroup-root', '/', '--v=2', '--fail-swap-on']);
    expect(f.get('cgroup-driver')).toBe('systemd');
    expect(f.get('cgroup-root')).toBe('/');
    expect(f.has('fail-swap-on')).toBe(false);
  });

  it('reads k3s --kubelet-arg flags', () => {
    const f = parseKubeletFlags([
      'server',
      '--kubelet-arg=cgroup-driver=cgroupfs',
      '--kubelet-arg',
      'cgroup-root=/k3s',
    ]);
    expect(f.get('cgroup-driver')).toBe('cgroupfs');
    expect(f.get('cgroup-root')).toBe('/k3s');
  });
});

describe('parseKubeletConfigFile', () => {
  it('reads cgroupDriver, cgroupRoot and containerRuntimeEndpoint', () => {
    const text =
      'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\ncgroupRoot: /\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n';
    expect(parseKubeletConfigFile(text)).toEqual({
      cgroupDriver: 'systemd',
      cgroupRoot: '/',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    });
  });
});

describe('detectKubelet', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('finds the kubelet under procBase and reads its --config file through its root (EKS)', () => {
    const proc = fakeProc([
      { pid: 1, comm: 'systemd', argv: ['/sbin/init'] },
      {
        pid: 812,
        comm: 'kubelet',
        argv: ['/usr/bin/kubelet', '--config', '/etc/kubernetes/kubelet/config.json', '--node-ip=10.0.0.5'],
        files: {
          '/etc/kubernetes/kubelet/config.json':
            '{"kind":"KubeletConfiguration","cgroupDriver":"systemd","containerRuntimeEndpoint":"unix:///run/containerd/containerd.sock"}',
        },
      },
    ]);
    dirs.push(proc);
    expect(findKubeletPid(proc)).toBe(812);
    const k = detectKubelet(proc);
    expect(k.pid).toBe(812);
    expect(k.cgroupDriver).toBe('systemd');
    expect(k.sources.cgroupDriver).toBe('config /etc/kubernetes/kubelet/config.json');
    expect(k.containerRuntimeEndpoint).toBe('unix:///run/containerd/containerd.sock');
    expect(k.cgroupRoot).toBeNull();
    expect(k.problems).toEqual([]);
  });

  it('prefers command-line flags over the config file (AKS --cgroup-root)', () => {
    const proc = fakeProc([
      {
        pid: 77,
        comm: 'kubelet',
        argv: [
          'kubelet',
          '--cgroup-root=/',
          '--cgroup-driver=systemd',
          '--config=/var/lib/kubelet/config.yaml',
        ],
        files: { '/var/lib/kubelet/config.yaml': 'cgroupDriver: cgroupfs\ncgroupRoot: /other\n' },
      },
    ]);
    dirs.push(proc);
    const k = detectKubelet(proc);
    expect(k.cgroupDriver).toBe('systemd');
    expect(k.sources.cgroupDriver).toBe('cmdline');
    expect(k.cgroupRoot).toBe('/');
    expect(k.sources.cgroupRoot).toBe('cmdline');
  });

  it('reports a config file it cannot read and an unknown driver', () => {
    const proc = fakeProc([
      { pid: 5, comm: 'kubelet', argv: ['kubelet', '--config=/nope.yaml', '--cgroup-driver=weird'] },
    ]);
    dirs.push(proc);
    const k = detectKubelet(proc);
    expect(k.cgroupDriver).toBeNull();
    expect(k.problems).toEqual([
      'cannot read kubelet config /nope.yaml',
      'unknown kubelet cgroup driver "weird"',
    ]);
  });

  it('reports when there is no kubelet', () => {
    const proc = fakeProc([{ pid: 1, comm: 'init', argv: ['/sbin/init'] }]);
    dirs.push(proc);
    const k = detectKubelet(proc);
    expect(k.pid).toBeNull();
    expect(k.problems[0]).toMatch(/no kubelet process found/);
  });
});
