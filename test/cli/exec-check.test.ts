import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCheck } from '../../src/cli/exec-check';
import { effectiveCapabilities, missingCapabilities } from '../../src/exec/capabilities';
import { capabilitiesFor, parseNamespaceKinds } from '../../src/exec/namespace-kinds';

function status(capEff: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'pt-caps-')), 'status');
  writeFileSync(f, `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`);
  return f;
}

describe('execCheck', () => {
  it('names exactly the capabilities exec misses (the agent set: BPF, PERFMON, SYS_RESOURCE)', () => {
    // BPF (39), PERFMON (38), SYS_RESOURCE (24): what the DaemonSet grants.
    const agent = ((1n << 39n) | (1n << 38n) | (1n << 24n)).toString(16).padStart(16, '0');
    const r = execCheck(status(agent));
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('missing CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_CHROOT');
  });

  it('names only CAP_SYS_PTRACE when SYS_ADMIN and SYS_CHROOT are there', () => {
    const caps = ((1n << 21n) | (1n << 18n)).toString(16).padStart(16, '0');
    expect(execCheck(status(caps)).detail).toContain('here: missing CAP_SYS_PTRACE (the agent');
  });

  it('is ok with all of them and nsenter on PATH', () => {
    expect(execCheck(status('000001ffffffffff')).status).toBe('ok');
  });
});

describe('capabilities', () => {
  it('reads CapEff as a mask', () => {
    expect(effectiveCapabilities(status('0000000000200000'))).toBe(1n << 21n);
    expect(missingCapabilities(1n << 21n, ['SYS_ADMIN', 'SYS_CHROOT'])).toEqual(['CAP_SYS_CHROOT']);
  });

  it('asks for CAP_SYS_CHROOT only when the mount namespace is entered', () => {
    expect(capabilitiesFor(['net', 'uts'])).toEqual(['SYS_ADMIN']);
    expect(capabilitiesFor(['net', 'mnt'])).toEqual(['SYS_ADMIN', 'SYS_CHROOT']);
  });
});

describe('parseNamespaceKinds', () => {
  it('keeps the order, drops duplicates and names an unknown kind', () => {
    expect(parseNamespaceKinds('net,uts,net,pid')).toEqual(['net', 'uts', 'pid']);
    expect(parseNamespaceKinds('net,user')).toBe(
      '--ns: "user" is not a namespace kind (one of net, uts, ipc, pid, mnt, cgroup)',
    );
    expect(parseNamespaceKinds(',')).toMatch(/no namespace kind given/);
  });
});
