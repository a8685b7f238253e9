import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroup2Root, scanCgroupPaths } from '../../src/record/cgroup-paths';

describe('cgroup2Root', () => {
  it('finds the unified hierarchy on a hybrid host', () => {
    const mounts = [
      'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
    ].join('\n');
    expect(cgroup2Root(mounts)).toBe('/sys/fs/cgroup/unified');
  });

  it('prefers /sys/fs/cgroup on a pure v2 host', () => {
    expect(cgroup2Root('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\ncgroup2 /run/x cgroup2 rw 0 0')).toBe(
      '/sys/fs/cgroup',
    );
  });

  it('returns null without cgroup2', () => {
    expect(cgroup2Root('proc /proc proc rw 0 0')).toBeNull();
  });
});

describe('scanCgroupPaths', () => {
  const root = mkdtempSync(join(tmpdir(), 'podtrace-cg-'));
  mkdirSync(join(root, 'kubepods.slice', 'pod1', 'cri-abc'), { recursive: true });
  mkdirSync(join(root, 'user.slice'));
  const ino = (p: string): number => statSync(join(root, p)).ino;

  it('maps directory inodes to paths relative to the root', () => {
    const found = scanCgroupPaths(root, new Set([ino('kubepods.slice/pod1/cri-abc'), ino('user.slice'), 1]));
    expect(found.get(ino('kubepods.slice/pod1/cri-abc'))).toBe('/kubepods.slice/pod1/cri-abc');
    expect(found.get(ino('user.slice'))).toBe('/user.slice');
    expect(found.size).toBe(2);
  });

  it('lists every directory when no ids are given', () => {
    const all = scanCgroupPaths(root);
    expect([...all.values()].sort()).toEqual(
      ['/', '/kubepods.slice', '/kubepods.slice/pod1', '/kubepods.slice/pod1/cri-abc', '/user.slice'].sort(),
    );
  });
});
