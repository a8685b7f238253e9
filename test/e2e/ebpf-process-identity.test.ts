import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import type { PodtraceEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { missingBpf, waitFor } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', () => resolve(c.pid ?? -1));
  });
}

/** A python process whose second thread names itself and connects (to a port nobody listens on). */
const THREAD_CONNECT = `
import ctypes, socket, threading
libc = ctypes.CDLL(None)
def worker():
    libc.prctl(15, b'bar-worker-thr', 0, 0, 0)  # PR_SET_NAME: this thread's comm only
    try:
        socket.create_connection(('127.0.0.1', 9), timeout=2)
    except OSError:
        pass
t = threading.Thread(target=worker)
t.start()
t.join()
`;

/** Process identity as the kernel hands it: thread-group leader's name, bytes decoded as UTF-8. */
describeIf(missingBpf())('eBPF process identity (real kernel)', () => {
  const events: PodtraceEvent[] = [];
  let source: EbpfSource;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'podtrace-identity-'));
    const config = validateConfig({ source: { ebpf: { probes: ['process', 'tcp'] } } });
    source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics: new Metrics() });
    source.batches$.subscribe((b) => events.push(...b.events));
    await source.start();
  });

  afterAll(async () => {
    await source?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it("names the process by its thread-group leader when a named thread connects, keeping the thread's id and name", async () => {
    const pid = await run('python3', ['-c', THREAD_CONNECT]);
    const connect = await waitFor(
      () => events.find((e) => e.kind === EventKind.TcpConnect && e.pid === pid && e.remotePort === 9),
      'the thread’s tcp.connect',
    );
    if (connect.kind !== EventKind.TcpConnect) throw new Error('kind');
    expect(connect.comm).toBe('python3');
    expect(connect.threadName).toBe('bar-worker-thr');
    expect(connect.tid).not.toBe(pid);
    const attrs = eventAttributes(connect);
    expect(attrs['process.executable.name']).toBe('python3');
    expect(attrs['thread.name']).toBe('bar-worker-thr');
    expect(attrs['thread.id']).toBe(connect.tid);
  });

  it('decodes non-ASCII argv as UTF-8 and an invalid UTF-8 filename with U+FFFD', async () => {
    const pid = await run('/bin/echo', ['grüße', '日本語']);
    const echo = await waitFor(
      () => events.find((e) => e.kind === EventKind.ProcessExec && e.pid === pid),
      'the exec of /bin/echo',
    );
    if (echo.kind !== EventKind.ProcessExec) throw new Error('kind');
    expect(echo.args).toEqual(['/bin/echo', 'grüße', '日本語']);

    // A file whose name is not UTF-8 (bytes 0xff 0xfe), as any byte string is a valid Linux name.
    copyFileSync('/bin/true', Buffer.from(`${dir}/\xff\xfe-true`, 'latin1'));
    const sh = await run('/bin/sh', ['-c', `exec "$(printf '${dir}/\\377\\376-true')"`]);
    const exec = await waitFor(
      () =>
        events.find((e) => e.kind === EventKind.ProcessExec && e.pid === sh && e.filename.endsWith('-true')),
      'the exec of the non-UTF-8 file',
    );
    if (exec.kind !== EventKind.ProcessExec) throw new Error('kind');
    expect(exec.filename).toBe(`${dir}/\ufffd\ufffd-true`);
    expect(exec.comm).toBe('\ufffd\ufffd-true');
  });
});
