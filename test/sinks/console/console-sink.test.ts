import { Writable } from 'node:stream';
import { silentLogger } from '../../../src/core/logger';
import { validateConfig } from '../../../src/config/load-config';
import {
  CONSOLE_MAX_BUFFERED_LINES,
  ConsoleSink,
  formatJson,
  formatText,
} from '../../../src/sinks/console/console-sink';
import { BootClock } from '../../../src/events/clock';
import { RecordDecoder } from '../../../src/events/decode';
import type { PodtraceEvent } from '../../../src/events/event';
import { Redactor } from '../../../src/events/redact';
import { Metrics } from '../../../src/telemetry/metrics';
import { batch, processExec, tcpConnect, workloadMeta } from '../../helpers/events';
import { execRecord } from '../../helpers/records';

/** A stream that accepts writes only when released, like a terminal that stopped reading. */
class SlowStream extends Writable {
  lines = 0;
  maxDrainListeners = 0;
  private pending: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 64 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines += chunk.toString().split('\n').length - 1;
    this.maxDrainListeners = Math.max(this.maxDrainListeners, this.listenerCount('drain'));
    this.pending.push(cb);
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const cb of p) cb();
  }
}

const exec = processExec({
  pid: 4121,
  at: 5_000_000,
  procStartNs: 1,
  ppid: 4090,
  parentStartNs: 1,
  comm: 'true',
  filename: '/usr/bin/true',
  args: ['/usr/bin/true'],
});

describe('ConsoleSink', () => {
  describe('.consume', () => {
    it('holds lines while the output pushes back, with one drain listener, and writes them all after', async () => {
      const out = new SlowStream();
      const metrics = new Metrics();
      const sink = new ConsoleSink(validateConfig({}).sinks.console, {
        logger: silentLogger(),
        metrics,
        out,
      });
      for (let i = 0; i < 200; i++) sink.consume(batch(exec, exec));
      const released = setInterval(() => out.release(), 1);
      const done = sink.shutdown();
      await done;
      clearInterval(released);
      await new Promise<void>((r) => out.end(r));
      expect(out.lines).toBe(400);
      expect(out.maxDrainListeners).toBeLessThanOrEqual(1);
      expect(await metrics.droppedCount('console')).toBe(0);
    });

    it('drops and counts what exceeds the bound while blocked', async () => {
      const out = new SlowStream();
      const metrics = new Metrics();
      const sink = new ConsoleSink(validateConfig({}).sinks.console, {
        logger: silentLogger(),
        metrics,
        out,
      });
      const big = batch(...new Array<typeof exec>(10_000).fill(exec));
      const batches = CONSOLE_MAX_BUFFERED_LINES / 10_000 + 3;
      for (let i = 0; i < batches; i++) sink.consume(big);
      // The first batch went to the stream, the next ten fill the bound, the rest are dropped.
      expect(await metrics.droppedCount('console', 'output_blocked')).toBe(2 * 10_000);
      const released = setInterval(() => out.release(), 1);
      await sink.shutdown();
      clearInterval(released);
      expect(out.lines).toBe((batches - 2) * 10_000);
    });
  });
});

describe('formatText', () => {
  it('prints the README line shapes', () => {
    expect(formatText({ ...exec, meta: null, enrichment: 'pending' })).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} process\.exec {3}host {2}pid=4121 ppid=4090 comm=true {2}\/usr\/bin\/true$/,
    );
    const refused = tcpConnect({
      pid: 4133,
      at: 1,
      procStartNs: 1,
      comm: 'curl',
      localAddr: '127.0.0.1',
      localPort: 40000,
      remoteAddr: '127.0.0.1',
      remotePort: 9,
      errno: 111,
      error: 'ECONNREFUSED',
    });
    expect(formatText({ ...refused, meta: null, enrichment: 'pending' })).toMatch(
      /tcp\.connect {4}host {2}pid=4133 comm=curl {2}→ 127\.0\.0\.1:9 ECONNREFUSED$/,
    );
  });

  it('shows ? for events enrichment could not resolve', () => {
    expect(formatText({ ...exec, meta: null, enrichment: 'none' })).toContain(' process.exec   ?  pid=4121');
  });

  it('shows namespace/pod/container for enriched events', () => {
    const e = {
      ...exec,
      meta: workloadMeta({ namespace: 'shop', pod: 'web-1', container: 'app' }),
      enrichment: 'complete' as const,
    };
    expect(formatText(e)).toContain(' shop/web-1/app  pid=4121');
  });
});

describe('formatJson', () => {
  it('prints event.name, times and the shared attribute names', () => {
    const j = JSON.parse(formatJson(exec)) as Record<string, unknown>;
    expect(j).toMatchObject({
      'event.name': 'process.exec',
      'process.pid': 4121,
      'process.parent_pid': 4090,
      'process.executable.path': '/usr/bin/true',
      duration_ns: 0,
    });
    expect(typeof j.time_unix_nano).toBe('number');
  });

  it('redacts argv exactly once, at decode, with the configured patterns and none of its own', () => {
    const argv = ['sh', '-c', 'PGPASSWORD=pw-one psql', '--token', 'tok-two'];
    const record = execRecord(
      { pid: 4242, comm: 'sh', tsNs: 1e9 },
      { ppid: 1, uid: 0, parentStartNs: 1, filename: '/bin/sh', argv },
    );
    // `redact.patterns: [--token]`: PGPASSWORD is not a secret here (the defaults would say it is).
    const decoder = new RecordDecoder(new BootClock(() => 0), new Redactor(['--token']));
    const redactions = jest.spyOn(Redactor.prototype, 'args');
    try {
      const events: PodtraceEvent[] = [];
      decoder.decode(record, events);
      const line = JSON.parse(formatJson(events[0] as PodtraceEvent)) as Record<string, unknown>;
      expect(line['process.command_args']).toEqual([
        'sh',
        '-c',
        'PGPASSWORD=pw-one psql',
        '--token',
        '[REDACTED]',
      ]);
      expect(redactions).toHaveBeenCalledTimes(1);
    } finally {
      redactions.mockRestore();
    }
  });
});
