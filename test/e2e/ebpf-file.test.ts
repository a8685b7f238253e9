import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import type { FileEvent, PodtraceEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import { ReportBuilder } from '../../src/diagnose/report-builder';
import type { AvailableSection } from '../../src/diagnose/report-model';
import { renderReportText } from '../../src/diagnose/render-text';
import type { FileBody } from '../../src/diagnose/sections/file-section';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { FileIoProcess, diskTempDir } from '../helpers/file-io';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import type { PodCgroup } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;
const FILE_KINDS = new Set([
  EventKind.FileRead,
  EventKind.FileWrite,
  EventKind.FileFsync,
  EventKind.FileOpen,
]);

function fileEvents(events: readonly PodtraceEvent[], pid: number): FileEvent[] {
  return events.filter((e): e is FileEvent => FILE_KINDS.has(e.kind) && e.pid === pid);
}

interface Traced {
  pipeline: Pipeline;
  source: EbpfSource;
  sink: CollectingSink;
}

async function startTracing(
  file: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<Traced> {
  const config = validateConfig({
    source: { ebpf: { probes: ['file'], file, ...extra } },
    enrich: { cri: { enabled: false }, kubernetes: { enabled: false } },
  });
  const metrics = new Metrics();
  const source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
  const enricher = new PodEnricher(config.enrich, config.filter, {
    logger: silentLogger(),
    metrics,
    nodeName: 'n',
  });
  const sink = new CollectingSink();
  const pipeline = new Pipeline(source, enricher, [sink], silentLogger());
  await pipeline.start();
  expect(source.hooks.filter((h) => h.group === 'file' && !h.attached)).toEqual([]);
  expect(source.hooks.map((h) => h.hook)).toEqual(
    expect.arrayContaining(['tracepoint/syscalls/sys_exit_read', 'tracepoint/syscalls/sys_exit_fsync']),
  );
  return { pipeline, source, sink };
}

/**
 * The `file` probe group on the real kernel, driven by a fixture process inside a pod-shaped
 * cgroup: what is not a file produces nothing, slow operations and failed opens produce one event
 * each with the path resolved in the kernel from the fd (also for an fd opened before podtrace).
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))('file.* (real kernel)', () => {
  const cgroups = new PodCgroups(base as string);
  const dir = diskTempDir('podtrace-file-');

  afterAll(async () => {
    await cgroups.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('with minLatencyUs: 0 (every operation)', () => {
    let t: Traced;
    let pod: PodCgroup;
    let io: FileIoProcess;
    let early: FileIoProcess;
    let earlyPod: PodCgroup;
    const heldPath = join(dir, 'held-before-start.log');

    beforeAll(async () => {
      // A process that opened its file before podtrace started.
      earlyPod = cgroups.make();
      early = new FileIoProcess(cgroups, earlyPod);
      expect(await early.ask(`hold ${heldPath}`)).toMatch(/^held \d+$/);
      t = await startTracing({ minLatencyUs: 0 });
      pod = cgroups.make();
      io = new FileIoProcess(cgroups, pod);
    });

    afterAll(async () => {
      io.stop();
      early.stop();
      await t.pipeline.shutdown();
    });

    it('reports no I/O on a pipe, a socket or /proc (not files, or a pseudo filesystem)', async () => {
      // Markers (writes of real files) before and after: what lies between them is the command's.
      const mark = async (name: string): Promise<number> => {
        const path = join(dir, name);
        expect(await io.ask(`write ${path} 7`)).toBe('ok');
        const find = (): number =>
          t.sink.events.findIndex((e) => e.pid === io.pid && 'path' in e && e.path === path);
        await waitFor(() => (find() >= 0 ? true : undefined), `the marker ${name}`);
        return find();
      };
      const from = await mark('marker-before-not-files');
      const answer = await io.ask('not-files');
      expect(answer.split(' ').slice(1).map(Number)).toHaveLength(5);
      const to = await mark('marker-after-not-files');
      const between = fileEvents(t.sink.events.slice(from + 1, to), io.pid);
      expect(between).toEqual([]);
      // The control: the same process's file I/O is seen (the markers), so the silence is the filter's.
      expect(to).toBeGreaterThan(from);
    });

    it('reports a failed open of a missing path with ENOENT, made absolute against the cwd', async () => {
      const missing = join(dir, 'does', 'not', 'exist');
      expect(await io.ask(`open-missing ${missing}`)).toBe('ENOENT');
      expect(await io.ask(`chdir ${dir}`)).toBe('ok');
      expect(await io.ask('open-missing relative-missing.txt')).toBe('ENOENT');
      const abs = await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find((e) => e.kind === EventKind.FileOpen && e.path === missing),
        'file.open of the missing path',
      );
      expect(abs.error).toBe('ENOENT');
      expect(abs.errno).toBe(2);
      expect(abs.fd).toBe(-1);
      expect(abs.operation).toBe('openat');
      const rel = await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find(
            (e) => e.kind === EventKind.FileOpen && e.path.endsWith('relative-missing.txt'),
          ),
        'file.open of the relative path',
      );
      expect(rel.path).toBe(join(dir, 'relative-missing.txt'));
      expect(eventAttributes(rel)['error.type']).toBe('ENOENT');
    });

    it('reports reads and writes of a known file with their bytes, pid and pod', async () => {
      const path = join(dir, 'known.dat');
      expect(await io.ask(`write ${path} 12345`)).toBe('ok');
      expect(await io.ask(`read ${path} 100000`)).toBe('read 12345');
      const w = await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find((e) => e.kind === EventKind.FileWrite && e.path === path),
        'file.write of the known file',
      );
      const r = await waitFor(
        () => fileEvents(t.sink.events, io.pid).find((e) => e.kind === EventKind.FileRead && e.path === path),
        'file.read of the known file',
      );
      expect(w.bytes).toBe(12345);
      expect(w.operation).toBe('write');
      expect(r.bytes).toBe(12345);
      expect(r.operation).toBe('read');
      expect(r.error).toBeNull();
      expect(r.durationNs).toBeGreaterThan(0);
      expect(r.pathTruncated).toBe(false);
      expect(r.comm).toMatch(/^python/);
      expect(r.meta?.podUid).toBe(pod.podUid);
      expect(r.meta?.containerId).toBe(pod.containerId);
      const attrs = eventAttributes(r);
      expect(attrs['file.path']).toBe(path);
      expect(attrs['podtrace.file.bytes']).toBe(12345);
      expect(attrs['process.pid']).toBe(io.pid);
    });

    it('resolves the path of an fd opened before podtrace started', async () => {
      expect(await early.ask('write-held 4096')).toBe('ok');
      const w = await waitFor(
        () =>
          fileEvents(t.sink.events, early.pid).find(
            (e) => e.kind === EventKind.FileWrite && e.bytes === 4096,
          ),
        'file.write on the pre-existing fd',
      );
      expect(w.path).toBe(heldPath);
      expect(w.meta?.podUid).toBe(earlyPod.podUid);
      const f = await waitFor(
        () => fileEvents(t.sink.events, early.pid).find((e) => e.kind === EventKind.FileFsync),
        'file.fsync on the pre-existing fd',
      );
      expect(f.path).toBe(heldPath);
      expect(f.operation).toBe('fsync');
    });

    it('names a file below a mount point through the mount (mount crossing)', async () => {
      const mnt = join(dir, 'mnt');
      mkdirSync(mnt);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'podtrace-test', mnt]).status).toBe(0);
      try {
        const path = join(mnt, 'sub', 'on-tmpfs.txt');
        mkdirSync(join(mnt, 'sub'));
        expect(await io.ask(`write ${path} 11`)).toBe('ok');
        const w = await waitFor(
          () =>
            fileEvents(t.sink.events, io.pid).find(
              (e) => e.kind === EventKind.FileWrite && e.path.endsWith('/on-tmpfs.txt'),
            ),
          'file.write below the mount point',
        );
        expect(w.path).toBe(path);
        expect(w.pathTruncated).toBe(false);
      } finally {
        spawnSync('umount', ['-l', mnt]);
      }
    });

    it('names a file as a chrooted process sees it (the walk stops at its root)', async () => {
      const root = join(dir, 'jail');
      mkdirSync(root);
      const jailed = new FileIoProcess(cgroups, pod);
      try {
        expect(await jailed.ask(`chroot ${root}`)).toBe('ok');
        expect(await jailed.ask('write /inside.txt 9')).toBe('ok');
        const w = await waitFor(
          () =>
            fileEvents(t.sink.events, jailed.pid).find(
              (e) => e.kind === EventKind.FileWrite && e.path.endsWith('inside.txt'),
            ),
          'file.write inside the chroot',
        );
        expect(w.path).toBe('/inside.txt');
        expect(w.bytes).toBe(9);
      } finally {
        jailed.stop();
      }
    });

    it('marks a path deeper than the walk bound as truncated, keeping its end', async () => {
      const names = Array.from({ length: 20 }, (_, i) => `level${i + 1}`);
      const deep = join(dir, ...names);
      mkdirSync(deep, { recursive: true });
      const path = join(deep, 'deep.txt');
      writeFileSync(path, 'deep');
      expect(await io.ask(`read ${path} 100`)).toBe('read 4');
      const r = await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find(
            (e) => e.kind === EventKind.FileRead && e.path.endsWith('/deep.txt'),
          ),
        'file.read of the deep file',
      );
      expect(r.pathTruncated).toBe(true);
      expect(r.path.startsWith('…/')).toBe(true);
      expect(path.endsWith(r.path.slice(1))).toBe(true);
      expect(r.path).toContain('/level20/deep.txt');
      expect(eventAttributes(r)['podtrace.file.path_truncated']).toBe(true);
    });
  });

  describe('with the default threshold', () => {
    let t: Traced;
    let pod: PodCgroup;
    let io: FileIoProcess;

    beforeAll(async () => {
      t = await startTracing({});
      pod = cgroups.make();
      io = new FileIoProcess(cgroups, pod);
    });

    afterAll(async () => {
      io.stop();
      await t.pipeline.shutdown();
    });

    it('reports a slow fsync of a large write with path, pid and pod, and nothing under the threshold', async () => {
      const path = join(dir, 'big.dat');
      expect(await io.ask(`fsync-big ${path} 32`)).toBe('ok');
      const f = await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find((e) => e.kind === EventKind.FileFsync && e.path === path),
        'file.fsync of the large file',
        30_000,
      );
      expect(f.durationNs).toBeGreaterThanOrEqual(1_000_000);
      expect(f.operation).toBe('fsync');
      expect(f.bytes).toBe(0);
      expect(f.meta?.podUid).toBe(pod.podUid);
      expect(f.meta?.containerId).toBe(pod.containerId);
      // The kernel filter: whatever else the process did, nothing faster than the threshold arrived.
      const reads = fileEvents(t.sink.events, io.pid).filter((e) => e.kind !== EventKind.FileOpen);
      expect(reads.every((e) => e.durationNs >= 1_000_000)).toBe(true);
    });
    it('fills the diagnose report’s slow file I/O section and failed opens from the kernel’s events', async () => {
      const missing = join(dir, 'diagnose-missing.conf');
      expect(await io.ask(`open-missing ${missing}`)).toBe('ENOENT');
      await waitFor(
        () =>
          fileEvents(t.sink.events, io.pid).find((e) => e.kind === EventKind.FileOpen && e.path === missing),
        'the failed open',
      );
      const b = new ReportBuilder(new Set(['file']), 1000);
      b.observe(fileEvents(t.sink.events, io.pid));
      const r = b.build({
        target: {
          namespace: 'ns',
          name: 'pod',
          uid: pod.podUid,
          node: 'n',
          owner: null,
          containers: [],
          hostNetwork: false,
          sandboxId: null,
          resolvedBy: 'cri',
          criEndpoint: null,
          runtime: null,
        },
        window: { start: '', end: '', durationMs: 1000, requestedMs: 1000, stoppedEarly: false },
        kernelLost: {},
        unattributed: 0,
      });
      const section = r.sections.find((x) => x.id === 'file') as AvailableSection;
      expect(section.available).toBe(true);
      const body = section.body as unknown as FileBody;
      const big = join(dir, 'big.dat');
      expect(body.slow.find((x) => x.path === big && x.operation === 'fsync')?.count).toBeGreaterThanOrEqual(
        1,
      );
      expect(body.failedOpens).toContainEqual({ path: missing, error: 'ENOENT', count: 1 });
      expect(renderReportText(r)).toContain(`fsync ${big}`);
    });
  });

  describe('in-kernel scope and rate limit', () => {
    let t: Traced;
    let io: FileIoProcess;
    let limited: FileIoProcess;

    beforeAll(async () => {
      t = await startTracing({ minLatencyUs: 0 }, { rateLimit: { perKind: { 'file.open': 1 } } });
      io = new FileIoProcess(cgroups, cgroups.make());
      limited = new FileIoProcess(cgroups, cgroups.make());
    });

    afterAll(async () => {
      io.stop();
      limited.stop();
      await t.pipeline.shutdown();
    });

    it('caps failed opens per cgroup by the per-kind rate and counts the rest', async () => {
      const before = t.source.kernelDrops().rateLimited['file.open'] ?? 0;
      for (let i = 0; i < 40; i++)
        expect(await limited.ask(`open-missing ${join(dir, `nope-${i}`)}`)).toBe('ENOENT');
      await waitFor(
        () => ((t.source.kernelDrops().rateLimited['file.open'] ?? 0) - before >= 20 ? true : undefined),
        'rate-limited file.open drops',
      );
      const opens = fileEvents(t.sink.events, limited.pid).filter((e) => e.kind === EventKind.FileOpen);
      // A burst of one second at 1/s plus what the elapsed time earned: far fewer than the 40 attempts.
      expect(opens.length).toBeLessThan(40);
      expect(opens.length).toBeGreaterThan(0);
    });

    it('produces no record for a cgroup the scope excludes, and counts it', async () => {
      const denied = cgroups.make();
      const id = statSync(denied.dir).ino;
      // Denied before the process enters the cgroup: no record of it can predate the entry.
      t.source.scope.setMode('deny');
      t.source.scope.add([id]);
      const proc = new FileIoProcess(cgroups, denied);
      try {
        const before = t.source.kernelDrops().scoped['file.write'] ?? 0;
        const path = join(dir, 'denied.dat');
        for (let i = 0; i < 5; i++) expect(await proc.ask(`write ${path} 100`)).toBe('ok');
        // The other cgroup's marker comes after them in the ring.
        const marker = join(dir, 'marker-after-denied');
        expect(await io.ask(`write ${marker} 3`)).toBe('ok');
        await waitFor(
          () => fileEvents(t.sink.events, io.pid).find((e) => e.path === marker),
          'the marker of the cgroup in scope',
        );
        expect(fileEvents(t.sink.events, proc.pid).filter((e) => e.cgroupId === id)).toEqual([]);
        expect((t.source.kernelDrops().scoped['file.write'] ?? 0) - before).toBeGreaterThanOrEqual(5);
      } finally {
        proc.stop();
      }
    });
  });
});
