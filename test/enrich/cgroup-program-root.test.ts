import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupProgramRoot } from '../../src/enrich/cgroup/cgroup-mount';

/** A /sys/fs/cgroup of a hybrid node: v1 controllers (cgroup.procs only) and cgroup2 at unified/. */
function hybridRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'podtrace-cgroot-'));
  mkdirSync(join(root, 'pids'));
  writeFileSync(join(root, 'pids', 'cgroup.procs'), '');
  mkdirSync(join(root, 'unified'));
  writeFileSync(join(root, 'unified', 'cgroup.controllers'), '');
  return root;
}

describe('cgroupProgramRoot', () => {
  it('in v1 mode never takes the configured v1 base: cgroup2 is the unified directory beside it', () => {
    const root = hybridRoot();
    const config = { cgroupBase: join(root, 'pids'), procBase: join(root, 'no-proc') };
    expect(cgroupProgramRoot(config, true, root)).toBe(join(root, 'pids', '..', 'unified'));
    // Outside v1 mode the configured base is the cgroup2 hierarchy itself.
    expect(cgroupProgramRoot(config, false, root)).toBe(join(root, 'pids'));
  });

  it('in v1 mode without a base (or none beside it) detects cgroup2 as usual, else gives none', () => {
    const root = hybridRoot();
    const noProc = join(root, 'no-proc');
    expect(cgroupProgramRoot({ cgroupBase: '', procBase: noProc }, true, root)).toBe(join(root, 'unified'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'podtrace-v1base-'));
    expect(cgroupProgramRoot({ cgroupBase: elsewhere, procBase: noProc }, true, root)).toBe(
      join(root, 'unified'),
    );
    const bare = mkdtempSync(join(tmpdir(), 'podtrace-nocg-'));
    expect(cgroupProgramRoot({ cgroupBase: '', procBase: noProc }, true, bare)).toBe('');
  });
});
