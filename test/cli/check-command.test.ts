import { hookSummary, probeChecks } from '../../src/cli/check-command';
import { validateConfig } from '../../src/config/load-config';
import { missingBpf } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';

describe('hookSummary', () => {
  it('folds entry/exit pairs of syscall tracepoints into one item, keeping the other hooks', () => {
    expect(
      hookSummary([
        'tracepoint/syscalls/sys_enter_read',
        'tracepoint/syscalls/sys_exit_read',
        'tp_btf/signal_generate',
        'tracepoint/syscalls/sys_enter_fsync',
        'tracepoint/syscalls/sys_exit_fsync',
      ]),
    ).toBe('tp_btf/signal_generate, tracepoint/syscalls/sys_{enter,exit}_{read,fsync}');
  });

  it('lists an unpaired syscall tracepoint as it is', () => {
    expect(hookSummary(['tracepoint/syscalls/sys_enter_read', 'tp_btf/x'])).toBe(
      'tracepoint/syscalls/sys_enter_read, tp_btf/x',
    );
  });
});

describeIf(missingBpf())('probeChecks (real kernel)', () => {
  it('loads the file group on its own and names its syscalls; not enabled, it says it is opt-in', () => {
    const [r] = probeChecks(validateConfig({}), ['file']);
    expect(r?.status).toBe('ok');
    expect(r?.name).toBe('probes file');
    expect(r?.detail).toMatch(/^tracepoint\/syscalls\/sys_\{enter,exit\}_\{read,pread64,readv,preadv,write,/);
    expect(r?.detail).toContain('fsync,fdatasync,sync_file_range,openat,openat2');
    expect(r?.detail).toContain('(opt-in: not enabled in source.ebpf.probes)');
  });

  it('reports the file group as enabled when it is in source.ebpf.probes', () => {
    const [r] = probeChecks(validateConfig({ source: { ebpf: { probes: ['file'] } } }), ['file']);
    expect(r?.status).toBe('ok');
    expect(r?.detail).not.toContain('opt-in');
  });
});
