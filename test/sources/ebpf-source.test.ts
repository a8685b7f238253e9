import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { silentLogger } from '../../src/core/logger';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { bpfObjectDir, loadNativeAddon } from '../../src/native/native-addon';
import { validateConfig } from '../../src/config/load-config';
import { Metrics } from '../../src/telemetry/metrics';
import { describeIf } from '../helpers/prereq';
import { missingBpf, openFds, threads, waitFor } from '../helpers/kernel';

function run(cmd: string, args: string[]): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ pid: child.pid ?? -1, code }));
  });
}

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((sock) => sock.on('data', () => sock.end()).on('error', () => undefined));
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

describeIf(missingBpf())('EbpfSource (real kernel)', () => {
  const events: PodtraceEvent[] = [];
  let source: EbpfSource;
  const metrics = new Metrics();

  beforeAll(async () => {
    const config = validateConfig({}).source.ebpf;
    source = new EbpfSource(config, { logger: silentLogger(), metrics });
    source.batches$.subscribe((b) => events.push(...b.events));
    await source.start();
  });

  afterAll(async () => {
    await source.shutdown();
  });

  describe('.start', () => {
    it('attaches every default hook on this kernel', () => {
      expect(source.hooks.filter((h) => h.attached).map((h) => h.hook)).toEqual(
        expect.arrayContaining([
          'tracepoint/sched/sched_process_exec',
          'tracepoint/sock/inet_sock_set_state',
          'tp_btf/mark_victim',
        ]),
      );
    });
  });

  describe('process group', () => {
    it('sees process.exec and process.exit of /bin/sh -c "exit 3" with the right pid and code', async () => {
      const { pid, code } = await run('/bin/sh', ['-c', 'exit 3']);
      expect(code).toBe(3);
      const exec = await waitFor(
        () => events.find((e) => e.kind === EventKind.ProcessExec && e.pid === pid),
        'process.exec',
      );
      const exit = await waitFor(
        () => events.find((e) => e.kind === EventKind.ProcessExit && e.pid === pid),
        'process.exit',
      );
      if (exec.kind !== EventKind.ProcessExec || exit.kind !== EventKind.ProcessExit)
        throw new Error('kinds');
      expect(exec.filename).toBe('/bin/sh');
      expect(exec.args).toEqual(['/bin/sh', '-c', 'exit 3']);
      expect(exec.ppid).toBe(process.pid);
      expect(exit.exitCode).toBe(3);
      expect(exit.lifetimeNs).toBeGreaterThan(0);
      expect(exit.procStartNs).toBe(exec.procStartNs);
      expect(Math.abs(exec.timeUnixNs / 1e6 - Date.now())).toBeLessThan(60_000);
      const fork = await waitFor(
        () => events.find((e) => e.kind === EventKind.ProcessFork && e.childPid === pid),
        'process.fork',
      );
      expect(fork.pid).toBe(process.pid);
    });
  });

  describe('tcp group', () => {
    it('sees tcp.connect with ports and latency, tcp.accept in the listener process, and tcp.close', async () => {
      const server = await listen();
      const port = (server.address() as AddressInfo).port;
      const client = await run('/bin/bash', [
        '-c',
        `exec 3<>/dev/tcp/127.0.0.1/${port}; echo hi >&3; cat <&3 >/dev/null`,
      ]);
      expect(client.code).toBe(0);
      const connect = await waitFor(
        () =>
          events.find(
            (e) => e.kind === EventKind.TcpConnect && e.remotePort === port && e.pid === client.pid,
          ),
        'tcp.connect',
      );
      if (connect.kind !== EventKind.TcpConnect) throw new Error('kind');
      expect(connect.error).toBeNull();
      expect(connect.remoteAddr).toBe('127.0.0.1');
      expect(connect.localPort).toBeGreaterThan(0);
      expect(connect.latencyNs).toBeGreaterThan(0);
      expect(connect.comm).toBe('bash');
      const accept = await waitFor(
        () =>
          events.find(
            (e) =>
              e.kind === EventKind.TcpAccept && e.localPort === port && e.remotePort === connect.localPort,
          ),
        'tcp.accept',
      );
      expect(accept.pid).toBe(process.pid);
      const close = await waitFor(
        () =>
          events.find(
            (e) => e.kind === EventKind.TcpClose && e.pid === client.pid && e.localPort === connect.localPort,
          ),
        'tcp.close of the client',
      );
      if (close.kind !== EventKind.TcpClose) throw new Error('kind');
      expect(close.durationNs).toBeGreaterThan(0);
      expect(close.bytesSent).toBeGreaterThan(0);
      await new Promise((r) => server.close(r));
    });

    it('sees a refused connect with ECONNREFUSED', async () => {
      const server = await listen();
      const port = (server.address() as AddressInfo).port;
      await new Promise((r) => server.close(r));
      const client = await run('/bin/bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
      expect(client.code).not.toBe(0);
      const refused = await waitFor(
        () =>
          events.find(
            (e) => e.kind === EventKind.TcpConnect && e.remotePort === port && e.pid === client.pid,
          ),
        'refused tcp.connect',
      );
      if (refused.kind !== EventKind.TcpConnect) throw new Error('kind');
      expect(refused.error).toBe('ECONNREFUSED');
      expect(refused.errno).toBe(111);
    });
  });

  describe('.kernelLosses', () => {
    it('reports a counter for every kind', () => {
      const losses = source.kernelLosses();
      expect(Object.keys(losses)).toEqual(
        expect.arrayContaining(['process.exec', 'tcp.connect', 'oom.kill']),
      );
      expect(Object.values(losses).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    });
  });
});

describeIf(missingBpf())('EbpfSource lifecycle (real kernel)', () => {
  describe('.shutdown', () => {
    it('stops the drain thread, frees every fd, completes the stream, and is idempotent', async () => {
      const fdsBefore = openFds();
      const threadsBefore = threads();
      const source = new EbpfSource(validateConfig({}).source.ebpf, {
        logger: silentLogger(),
        metrics: new Metrics(),
      });
      let completed = false;
      let seen = 0;
      source.batches$.subscribe({
        next: (b) => (seen += b.events.length),
        complete: () => (completed = true),
      });
      await source.start();
      expect(threads()).toBeGreaterThan(threadsBefore);
      await run('/bin/true', []);
      await waitFor(() => (seen > 0 ? true : undefined), 'some events');
      await source.shutdown();
      await source.shutdown();
      expect(completed).toBe(true);
      expect(openFds()).toBe(fdsBefore);
      await waitFor(() => (threads() === threadsBefore ? true : undefined), 'the drain thread to exit');
    });

    it('is safe without start', async () => {
      const source = new EbpfSource(validateConfig({}).source.ebpf, {
        logger: silentLogger(),
        metrics: new Metrics(),
      });
      await expect(source.shutdown()).resolves.toBeUndefined();
    });
  });
});

describeIf(missingBpf())('Tracer optional groups (real kernel)', () => {
  it('reports an optional group that cannot load, with the reason, and still attaches the required ones', () => {
    const addon = loadNativeAddon();
    const tracer = new addon.Tracer({
      objectDir: bpfObjectDir(),
      probes: ['oom'],
      optional: ['no-such-extra'],
    });
    try {
      const hooks = tracer.start();
      expect(hooks.find((h) => h.group === 'oom')).toMatchObject({
        attached: true,
        hook: 'tp_btf/mark_victim',
      });
      const skipped = hooks.find((h) => h.group === 'no-such-extra');
      expect(skipped?.attached).toBe(false);
      expect(skipped?.reason).toMatch(/no-such-extra\.bpf\.o: ENOENT/);
    } finally {
      tracer.close();
    }
  });

  it('names the group and errno when a required group cannot load', () => {
    const addon = loadNativeAddon();
    const tracer = new addon.Tracer({ objectDir: bpfObjectDir(), probes: ['no-such-group'] });
    try {
      expect(() => tracer.start()).toThrow(/probe group no-such-group: open .*: ENOENT/);
    } finally {
      tracer.close();
    }
  });
});
