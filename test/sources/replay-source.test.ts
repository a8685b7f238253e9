import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { validateConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/logger';
import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { RECORD_VERSION } from '../../src/events/layout';
import type { RecordHeader } from '../../src/record/record-format';
import { readRecording } from '../../src/record/record-reader';
import { RecordWriter } from '../../src/record/record-writer';
import { recordCommand } from '../../src/cli/record-command';
import { EbpfSource } from '../../src/sources/ebpf-source';
import type { ReplaySourceConfig } from '../../src/sources/replay-config';
import { ReplaySource } from '../../src/sources/replay-source';
import { Metrics } from '../../src/telemetry/metrics';
import { EmissionLog, FakeSourceClock } from '../helpers/fake-source-clock';
import { missingBpf, waitFor } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';
import { execRecord, exitRecord, forkRecord, recordHeader, tcpRecord } from '../helpers/records';

const OFFSET = 1_760_000_000_000_000_000;

function header(over: Partial<RecordHeader> = {}): RecordHeader {
  return recordHeader({
    clockOffsetNs: OFFSET,
    bootTimeUnixMs: OFFSET / 1e6,
    startedAtUnixMs: Date.now(),
    ...over,
  });
}

/** Three batches of mixed records; `cgroups` are the ids the records carry, round robin. */
function batches(cgroups: number[], perBatch = 100): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  for (let b = 0; b < 3; b++) {
    const recs: Buffer[] = [];
    for (let j = 0; j < perBatch; j++, i++) {
      const h = {
        pid: 1000 + i,
        tsNs: 1e10 + i * 1000,
        cgroupId: cgroups[i % cgroups.length]!,
        comm: `c${i % 5}`,
      };
      const k = i % 4;
      recs.push(
        k === 0
          ? execRecord(h, {
              ppid: 1,
              uid: 0,
              parentStartNs: 5,
              filename: '/bin/true',
              argv: ['true', `${i}`],
            })
          : k === 1
            ? exitRecord(h, { exitCode: (i % 3) << 8, lifetimeNs: i })
            : k === 2
              ? forkRecord(h, { childPid: i + 1, childStartNs: 7 })
              : tcpRecord(
                  { ...h, kind: EventKind.TcpConnect },
                  {
                    saddr: [127, 0, 0, 1],
                    daddr: [127, 0, 0, 1],
                    sport: 40000 + i,
                    dport: 80,
                    oldState: 2,
                    newState: 1,
                    durationNs: 9,
                  },
                ),
      );
    }
    out.push(Buffer.concat(recs));
  }
  return out;
}

function replayConfig(file: string, over: Partial<ReplaySourceConfig> = {}): ReplaySourceConfig {
  return { ...validateConfig({}).source.replay, file, ...over };
}

function decodeAll(bufs: Buffer[], offset: number): PodtraceEvent[] {
  const d = new RecordDecoder(new BootClock(() => offset));
  const out: PodtraceEvent[] = [];
  for (const b of bufs) d.decode(b, out);
  return out;
}

async function replayAll(source: ReplaySource): Promise<PodtraceEvent[][]> {
  const all = lastValueFrom(source.batches$.pipe(toArray()));
  await source.start();
  return (await all).map((b) => b.events);
}

describe('ReplaySource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-replay-'));
  // A fake cgroup2 tree: the writer resolves ids to paths by directory inode.
  const cgRoot = join(dir, 'cgroup');
  mkdirSync(join(cgRoot, 'kubepods', 'pod-a', 'ctr-1'), { recursive: true });
  mkdirSync(join(cgRoot, 'system.slice'), { recursive: true });
  const ctrId = statSync(join(cgRoot, 'kubepods', 'pod-a', 'ctr-1')).ino;
  const sysId = statSync(join(cgRoot, 'system.slice')).ino;
  const data = batches([ctrId, sysId, 424242]);
  const file = join(dir, 'a.ptrec');
  const writer = new RecordWriter(file, header({ cgroupRoot: cgRoot }), cgRoot);
  for (const b of data) writer.writeBatch(b);
  writer.close({ 'process.exec': 2 });

  describe('.start', () => {
    it('replays every recorded event exactly as the live decoder produced them', async () => {
      const source = new ReplaySource(replayConfig(file), { logger: silentLogger(), metrics: new Metrics() });
      const events = (await replayAll(source)).flat();
      expect(events).toHaveLength(300);
      expect(events).toEqual(decodeAll(data, OFFSET));
      expect(events[0]!.timeUnixNs).toBe(1e10 + OFFSET);
      expect(source.header?.nodeName).toBe('node-1');
      expect(source.completedLoops).toBe(1);
    });

    it('exposes the cgroup paths resolved while recording', async () => {
      const source = new ReplaySource(replayConfig(file), { logger: silentLogger(), metrics: new Metrics() });
      await replayAll(source);
      expect(source.cgroupPaths.get(ctrId)).toBe('/kubepods/pod-a/ctr-1');
      expect(source.cgroupPaths.get(sysId)).toBe('/system.slice');
      expect(source.cgroupPaths.has(424242)).toBe(false);
      const rec = await readRecording(file);
      expect(rec.trailer).toMatchObject({ batches: 3, records: 300, kernelLost: { 'process.exec': 2 } });
    });

    it('paces to the configured rate on a fake clock and caps batch size', async () => {
      const clock = new FakeSourceClock();
      const source = new ReplaySource(replayConfig(file, { rate: 1000, maxBatchEvents: 40 }), {
        logger: silentLogger(),
        metrics: new Metrics(),
        clock,
      });
      const emitted = new EmissionLog(source, clock);
      const out = await replayAll(source);
      expect(emitted.total).toBe(300);
      expect(out.every((b) => b.length <= 40)).toBe(true);
      // A batch leaves once its last event is due: at 1000/s, n events never before n ms.
      for (const s of emitted.seen) expect(s.at).toBeGreaterThanOrEqual(s.total);
      expect(clock.now()).toBe(300);
      expect(out.flat()).toEqual(decodeAll(data, OFFSET));
    });

    it('loops until shut down', async () => {
      const source = new ReplaySource(replayConfig(file, { loop: true }), {
        logger: silentLogger(),
        metrics: new Metrics(),
      });
      let n = 0;
      let completed = false;
      source.batches$.subscribe({ next: (b) => (n += b.events.length), complete: () => (completed = true) });
      await source.start();
      // A loop is counted once its last batch is out: wait for the count, not only for the events.
      await waitFor(() => (source.completedLoops >= 3 ? true : undefined), 'three loops');
      await source.shutdown();
      expect(completed).toBe(true);
      expect(n).toBeGreaterThanOrEqual(900);
    });

    it('stops at the last complete chunk of a truncated file', async () => {
      const cut = join(dir, 'cut.ptrec');
      const bytes = readFileSync(file);
      // Keep the preamble, the header and the first batch chunk, plus half of the next chunk.
      writeFileSync(cut, bytes.subarray(0, bytes.length - 2 * data[2]!.length));
      const source = new ReplaySource(replayConfig(cut), { logger: silentLogger(), metrics: new Metrics() });
      const events = (await replayAll(source)).flat();
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThan(300);
      expect(events).toEqual(decodeAll(data, OFFSET).slice(0, events.length));
    });

    it('fails with the key and file name for a missing or foreign file', async () => {
      const missing = new ReplaySource(replayConfig(join(dir, 'nope.ptrec')), {
        logger: silentLogger(),
        metrics: new Metrics(),
      });
      await expect(missing.start()).rejects.toThrow(/source\.replay\.file: ".*nope\.ptrec": .*ENOENT/);
      const foreign = join(dir, 'foreign.bin');
      writeFileSync(foreign, 'hello, this is not a recording at all');
      const bad = new ReplaySource(replayConfig(foreign), { logger: silentLogger(), metrics: new Metrics() });
      await expect(bad.start()).rejects.toThrow(/bad magic/);
    });

    it('requires source.replay.file', () => {
      expect(
        () => new ReplaySource(replayConfig(''), { logger: silentLogger(), metrics: new Metrics() }),
      ).toThrow(ConfigError);
    });
  });

  describe('.shutdown', () => {
    it('is safe without start, completes the stream and is idempotent', async () => {
      const source = new ReplaySource(replayConfig(file), { logger: silentLogger(), metrics: new Metrics() });
      const done = lastValueFrom(source.batches$.pipe(toArray()));
      await source.shutdown();
      await source.shutdown();
      await expect(done).resolves.toEqual([]);
    });
  });
});

function run(cmd: string, args: string[]): Promise<{ pid: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ pid: child.pid ?? -1, code }));
  });
}

describeIf(missingBpf())('ReplaySource (recorded from the real kernel)', () => {
  it('replays a `podtrace record` file to the same events the live eBPF source decoded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podtrace-rec-'));
    const file = join(dir, 'live.ptrec');
    const live: PodtraceEvent[] = [];
    const ebpf = new EbpfSource(validateConfig({}).source.ebpf, {
      logger: silentLogger(),
      metrics: new Metrics(),
    });
    ebpf.batches$.subscribe((b) => live.push(...b.events));
    await ebpf.start();
    const recording = recordCommand(['--out', file, '--duration', '1500ms', '--probes', 'process']);
    const child = await run('/bin/sh', ['-c', 'exit 7']);
    const recorded = await recording;
    expect(recorded).toBe(0);
    await waitFor(
      () => live.find((e) => e.kind === EventKind.ProcessExit && e.pid === child.pid),
      'live exit',
    );
    await ebpf.shutdown();

    const rec = await readRecording(file);
    expect(rec.header.nodeName).toBe(hostname());
    expect(rec.header.recordVersion).toBe(RECORD_VERSION);
    expect(rec.trailer?.records).toBeGreaterThan(0);
    // Our own process's cgroup was seen and resolved to a path.
    expect([...rec.cgroupPaths.values()].length).toBeGreaterThan(0);

    const source = new ReplaySource(replayConfig(file), { logger: silentLogger(), metrics: new Metrics() });
    const replayed = (await replayAll(source)).flat();
    // Exactly the recorded records, decoded with the recording's clock.
    expect(replayed).toEqual(decodeAll(rec.batches, rec.header.clockOffsetNs));
    expect(replayed).toHaveLength(rec.trailer!.records);

    // And the same events the live source saw for the child. The two tracers are separate BPF
    // programs reading the clock a few µs apart, so times (and the lifetime computed from them) differ
    // by that much; every other field is identical.
    type Timeless = Omit<PodtraceEvent, 'timeUnixNs' | 'bootNs'> & { lifetimeNs?: number };
    const timeless = (e: PodtraceEvent): Timeless => {
      const { timeUnixNs: _t, bootNs: _b, ...rest } = e;
      const out: Timeless = rest;
      delete out.lifetimeNs;
      return out;
    };
    const mine = (list: PodtraceEvent[]): PodtraceEvent[] =>
      list.filter((e) => e.pid === child.pid && e.kind !== EventKind.ProcessFork);
    const fromReplay = mine(replayed);
    const fromLive = mine(live);
    expect(fromReplay.map((e) => e.kind)).toEqual([EventKind.ProcessExec, EventKind.ProcessExit]);
    expect(fromReplay.map(timeless)).toEqual(fromLive.map(timeless));
    fromReplay.forEach((e, i) => {
      expect(Math.abs(e.bootNs - fromLive[i]!.bootNs)).toBeLessThan(1e6);
      expect(Math.abs(e.timeUnixNs - fromLive[i]!.timeUnixNs)).toBeLessThan(5e6);
    });
    const exit = fromReplay[1]!;
    expect(exit.kind === EventKind.ProcessExit && exit.exitCode).toBe(7);
  });
});
