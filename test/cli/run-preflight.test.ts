import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load-config';
import { withPreflight } from '../../src/cli/run-command';

/** A /proc whose self/status and self/mounts are this process's, with CapEff replaced. */
function procWithCaps(capEff: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pt-proc-'));
  mkdirSync(join(dir, 'self'));
  const status = readFileSync('/proc/self/status', 'utf8').replace(/^CapEff:.*$/m, `CapEff:\t${capEff}`);
  writeFileSync(join(dir, 'self', 'status'), status);
  writeFileSync(join(dir, 'self', 'mounts'), readFileSync('/proc/self/mounts', 'utf8'));
  return dir;
}

describe('withPreflight', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('adds check’s capability line and hint when the agent lacks CAP_BPF', () => {
    // CAP_PERFMON (38) only, as in a container whose BPF capability was dropped.
    const procBase = procWithCaps((1n << 38n).toString(16).padStart(16, '0'));
    dirs.push(procBase);
    const err = withPreflight(
      new Error('probes process: bpf_object__load: Operation not permitted'),
      validateConfig({ enrich: { procBase } }),
    ) as Error;
    expect(err.message).toContain('probes process: bpf_object__load: Operation not permitted');
    expect(err.message).toMatch(/fail capabilities\s+CAP_BPF=no CAP_PERFMON=yes CAP_SYS_ADMIN=no/);
    expect(err.message).toContain('eBPF not permitted: run as root or grant CAP_BPF and CAP_PERFMON');
  });

  it('adds no capability complaint when CAP_BPF and CAP_PERFMON are there', () => {
    const all = ((1n << 38n) | (1n << 39n)).toString(16).padStart(16, '0');
    const procBase = procWithCaps(all);
    dirs.push(procBase);
    const original = new Error('CRI unavailable');
    const err = withPreflight(original, validateConfig({ enrich: { procBase } }));
    // (On a kernel that itself fails a check — no BTF, < 5.8 — the message names that check only.)
    expect((err as Error).message).not.toMatch(/capabilities|eBPF not permitted/);
  });
});
