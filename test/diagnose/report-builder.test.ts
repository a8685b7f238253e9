import { ReportBuilder } from '../../src/diagnose/report-builder';
import type { AvailableSection, DiagnoseReport } from '../../src/diagnose/report-model';
import { renderReportText } from '../../src/diagnose/render-text';
import type { TcpBody } from '../../src/diagnose/sections/tcp-section';
import type { ProcessBody } from '../../src/diagnose/sections/process-section';
import { BoundedMap, Reservoir, percentile, topN } from '../../src/diagnose/stats';
import type {
  DnsQueryEvent,
  FileEvent,
  PodtraceEvent,
  ProcessSignalEvent,
  SchedRunqueueEvent,
} from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import type { SectionDefinition } from '../../src/diagnose/section';
import { SECTIONS } from '../../src/diagnose/sections';
import type { PodTarget } from '../../src/target/pod-target';
import {
  oomKill,
  processExec,
  processExit,
  tcpAccept,
  tcpConnect,
  tcpRetransmit,
  workloadMeta,
} from '../helpers/events';

const meta = workloadMeta({ namespace: 'shop', pod: 'api-0', deployment: 'api' });
const TARGET: PodTarget = {
  namespace: 'shop',
  name: 'api-0',
  uid: meta.podUid as string,
  node: 'node-a',
  owner: { kind: 'Deployment', name: 'api' },
  containers: [{ name: 'api', id: meta.containerId, image: 'registry.example/api:1.4', state: 'running' }],
  hostNetwork: false,
  sandboxId: 'sb1',
  resolvedBy: 'kubernetes+cri',
  criEndpoint: 'unix:///run/containerd/containerd.sock',
  runtime: 'containerd',
};
const WINDOW = {
  start: '2025-01-01T12:04:00.000Z',
  end: '2025-01-01T12:04:20.000Z',
  durationMs: 20000,
  requestedMs: 20000,
  stoppedEarly: false,
};
/** 12:04:31 UTC on the test boot day (events' wall time = 2025-01-01T00:00:00Z + boot ns). */
const AT_12_04_31 = (12 * 3600 + 4 * 60 + 31) * 1e9;

const common = (i: number) => ({ pid: 1000 + i, at: AT_12_04_31 + i * 1e6, procStartNs: 1, meta });

/** A fixed event set: 30 connects to the database, 11 of them timing out; the rest 1..19 ms. */
function fixedEvents(): PodtraceEvent[] {
  const out: PodtraceEvent[] = [];
  for (let i = 0; i < 30; i++) {
    const failed = i >= 19;
    out.push(
      tcpConnect({
        ...common(i),
        remoteAddr: '10.0.3.4',
        remotePort: 5432,
        latencyNs: failed ? 3e9 : (i + 1) * 1e6,
        error: failed ? 'ETIMEDOUT' : null,
        errno: failed ? 110 : 0,
      }),
    );
  }
  for (let i = 0; i < 4; i++)
    out.push(tcpConnect({ ...common(i), remoteAddr: '10.0.9.9', remotePort: 80, error: 'ECONNREFUSED' }));
  for (let i = 0; i < 12; i++)
    out.push(tcpRetransmit({ ...common(i), remoteAddr: '10.0.3.4', remotePort: 5432 }));
  for (let i = 0; i < 3; i++)
    out.push(tcpAccept({ ...common(i), remoteAddr: '10.244.0.7', localPort: 8080 }));
  // Execs: command k runs 13 - k times (k = 1..12), so the top 10 stop at cmd10.
  for (let k = 1; k <= 12; k++)
    for (let n = 0; n < 13 - k; n++)
      out.push(
        processExec({
          ...common(n),
          ppid: 1,
          parentStartNs: 1,
          filename: `/usr/bin/cmd${k}`,
          args: [`cmd${k}`, '-x'],
        }),
      );
  // busybox style: /proc/self/exe with argv[0] naming the applet.
  out.push(
    processExec({
      ...common(0),
      ppid: 1,
      parentStartNs: 1,
      filename: '/proc/self/exe',
      args: ['nc', '10.0.9.9', '80'],
    }),
  );
  for (let i = 0; i < 4; i++)
    out.push(processExit({ ...common(i), comm: 'curl', exitCode: i === 0 ? 0 : 7 }));
  for (let i = 0; i < 2; i++)
    out.push(processExit({ ...common(i), comm: 'worker', exitCode: null, signal: 9 }));
  out.push(oomKill({ ...common(0), victimPid: 4121, victimComm: 'worker' }));
  return out;
}

function build(events: PodtraceEvent[], groups = ['process', 'tcp', 'oom']): DiagnoseReport {
  const b = new ReportBuilder(new Set(groups));
  // Two batches, as the pipeline delivers them.
  b.observe(events.slice(0, 20));
  b.observe(events.slice(20));
  return b.build({
    target: TARGET,
    window: WINDOW,
    kernelLost: { 'tcp.connect': 0 },
    unattributed: 3,
    now: new Date(Date.UTC(2025, 0, 1, 12, 4, 20)),
  });
}

const section = <T>(r: DiagnoseReport, id: string): T =>
  (r.sections.find((s) => s.id === id) as AvailableSection).body as unknown as T;

describe('percentile', () => {
  it('is the nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('topN', () => {
  it('sorts by count, breaks ties by key and cuts at n', () => {
    const rows = [
      { k: 'b', count: 2 },
      { k: 'a', count: 2 },
      { k: 'c', count: 5 },
      { k: 'd', count: 1 },
    ];
    expect(topN(rows, 3, (r) => r.k).map((r) => r.k)).toEqual(['c', 'a', 'b']);
  });
});

describe('BoundedMap', () => {
  it('puts keys past the bound into one overflow entry and counts them', () => {
    const m = new BoundedMap<{ n: number }>(2, () => ({ n: 0 }));
    for (const k of ['a', 'b', 'c', 'd', 'a']) m.get(k).n++;
    expect([...m.entries()].map(([k, v]) => [k, v.n])).toEqual([
      ['a', 2],
      ['b', 1],
      ['(other)', 2],
    ]);
    expect(m.overflowed).toBe(2);
  });
});

describe('Reservoir', () => {
  it('keeps at most max samples of everything offered', () => {
    const r = new Reservoir(100);
    for (let i = 0; i < 10000; i++) r.add(i);
    expect(r.samples).toHaveLength(100);
    expect(r.seen).toBe(10000);
    // A uniform sample of 0..9999 is not the first hundred.
    expect(Math.max(...r.samples)).toBeGreaterThan(5000);
  });
});

describe('ReportBuilder', () => {
  describe('.build', () => {
    it('computes connects by destination with p50/p99 of the successful handshakes', () => {
      const tcp = section<TcpBody>(build(fixedEvents()), 'tcp');
      expect(tcp.connectsTotal).toBe(34);
      expect(tcp.connects[0]).toEqual({
        destination: '10.0.3.4:5432',
        count: 30,
        failed: 11,
        p50Ns: 10e6,
        p99Ns: 19e6,
      });
      expect(tcp.connects[1]).toEqual({
        destination: '10.0.9.9:80',
        count: 4,
        failed: 4,
        p50Ns: null,
        p99Ns: null,
      });
      expect(tcp.failures).toEqual([
        {
          destination: '10.0.3.4:5432',
          attempts: 30,
          count: 11,
          refused: 0,
          timedOut: 11,
          unreachable: 0,
          other: {},
        },
        {
          destination: '10.0.9.9:80',
          attempts: 4,
          count: 4,
          refused: 4,
          timedOut: 0,
          unreachable: 0,
          other: {},
        },
      ]);
      expect(tcp.retransmits).toEqual([{ peer: '10.0.3.4:5432', count: 12 }]);
      expect(tcp.accepts).toEqual([{ client: '10.244.0.7', localPort: 8080, count: 3 }]);
    });

    it('lists the top 10 exec’d commands by argv[0], exits by command and OOM kills', () => {
      const p = section<ProcessBody>(build(fixedEvents()), 'processes');
      expect(p.execs).toHaveLength(10);
      expect(p.execs[0]).toEqual({ command: 'cmd1', count: 12, path: '/usr/bin/cmd1' });
      expect(p.execs.map((r) => r.command)).not.toContain('cmd12');
      expect(p.execsTotal).toBe(79);
      expect(p.failures).toEqual([
        { command: 'curl', exits: 4, count: 3, codes: { 'exit 7': 3 }, signals: {} },
        { command: 'worker', exits: 2, count: 2, codes: {}, signals: { SIGKILL: 2 } },
      ]);
      expect(p.oomKills).toEqual([
        { time: '2025-01-01T12:04:31.000Z', pid: 4121, command: 'worker', pages: 262144, rssPages: 250000 },
      ]);
    });

    it('puts findings first, critical before warnings, each with its numbers', () => {
      const r = build(fixedEvents());
      expect(r.findings.map((f) => [f.severity, f.message])).toEqual([
        ['critical', 'OOM kill of `worker` (pid 4121) at 12:04:31 UTC (250000 resident pages)'],
        ['critical', '100 % of connects to 10.0.9.9:80 were refused (4 of 4)'],
        ['warning', '`curl` exited non-zero 3 of 4 times (exit 7 ×3)'],
        ['warning', '`worker` was killed by a signal 2 of 2 times (SIGKILL ×2)'],
        ['warning', '37 % of connects to 10.0.3.4:5432 timed out (11 of 30)'],
        ['warning', '12 TCP retransmits to 10.0.3.4:5432'],
      ]);
      expect(r.findings[4]?.numbers).toEqual({ percent: 37, failed: 11, attempts: 30, ETIMEDOUT: 11 });
    });

    it('reports slow connects from the p99', () => {
      const slow = Array.from({ length: 10 }, (_, i) =>
        tcpConnect({
          ...common(i),
          remoteAddr: '10.0.5.5',
          remotePort: 443,
          latencyNs: i === 9 ? 900e6 : 2e6,
        }),
      );
      expect(build(slow).findings.map((f) => f.message)).toEqual([
        'connects to 10.0.5.5:443 are slow: p99 900.0 ms (p50 2.0 ms, 10 connects)',
      ]);
    });

    it('says which sections are not available or not enabled', () => {
      const r = build(fixedEvents(), ['process']);
      const reasons = Object.fromEntries(r.sections.map((s) => [s.id, s.available ? 'ok' : s.reason]));
      expect(reasons).toEqual({
        processes: 'ok',
        tcp: 'probe group "tcp" not enabled (add it with --probes)',
        dns: 'probe group "dns" not enabled (add it with --probes)',
        file: 'probe group "file" not enabled (add it with --probes)',
        signals: 'probe group "signal" not enabled (add it with --probes)',
        runqueue: 'probe group "sched" not enabled (add it with --probes)',
      });
      expect(section<ProcessBody>(r, 'processes').oomAvailable).toBe(false);
      expect(r.findings.every((f) => f.section === 'processes')).toBe(true);
    });

    it('says nothing stands out for an idle pod', () => {
      const r = build([]);
      expect(r.findings).toEqual([]);
      expect(renderReportText(r)).toContain('Findings\n   - nothing stands out in this window\n');
    });
  });
});

describe('renderReportText', () => {
  it('reads top to bottom: pod, window, findings, then the sections', () => {
    const text = renderReportText(build(fixedEvents()));
    expect(text).toContain(
      'podtrace diagnose: pod shop/api-0\n  node        node-a\n  owner       Deployment/api\n',
    );
    expect(text).toContain('  containers  api (registry.example/api:1.4, running)\n');
    expect(text).toContain('  window      2025-01-01T12:04:00.000Z → 12:04:20.000Z (20.0 s)\n');
    expect(text).toContain(
      'Findings\n  !! OOM kill of `worker` (pid 4121) at 12:04:31 UTC (250000 resident pages)\n  !! 100 % of connects',
    );
    expect(text).toContain('    10.0.3.4:5432                                30      11  10.0 ms  19.0 ms\n');
    expect(text).toContain(
      '    10.0.3.4:5432                            refused 0, timed out 11, unreachable 0 (of 30)\n',
    );
    expect(text).toContain('    12:04:31  worker (pid 4121) 262144 pages, 250000 resident\n');
    expect(text).toContain('DNS\n  probe group "dns" not enabled (add it with --probes)\n');
    const heads = [
      'Findings',
      'Processes',
      'TCP',
      'DNS',
      'Slow file I/O',
      'Signals',
      'Run-queue latency',
    ].map((h) => text.indexOf(`\n${h}\n`));
    expect(heads.every((i) => i > 0)).toBe(true);
    expect([...heads].sort((a, b) => a - b)).toEqual(heads);
  });

  it('renders the same text from the JSON report (the JSON carries everything the text shows)', () => {
    const r = build(fixedEvents());
    const fromJson = JSON.parse(JSON.stringify(r)) as DiagnoseReport;
    expect(fromJson.schema).toBe('podtrace.diagnose.v1');
    expect(renderReportText(fromJson)).toBe(renderReportText(r));
  });
});

/** The header fields every decoded event has, for the breadth kinds (built like the decoder does). */
function header(i: number): Omit<PodtraceEvent, 'kind'> {
  const c = common(i);
  return {
    timeUnixNs: 1_735_689_600_000_000_000 + c.at,
    bootNs: c.at,
    pid: c.pid,
    tid: c.pid,
    procStartNs: 1,
    cgroupId: 4242,
    comm: 'api',
    flags: 0,
    meta,
    enrichment: 'complete',
  };
}

function dns(i: number, error: string | null, latencyNs: number): DnsQueryEvent {
  return {
    ...header(i),
    kind: EventKind.DnsQuery,
    transport: 'udp',
    family: 4,
    clientAddr: '10.244.1.17',
    clientPort: 40000 + i,
    serverAddr: '10.96.0.10',
    serverPort: 53,
    id: i,
    questionName: error === null ? 'db.shop.svc.cluster.local' : 'db.shop.svc',
    queryType: 'A',
    rcode: error === 'timeout' ? null : error === null ? 0 : 3,
    answerCount: error === null ? 1 : 0,
    answers: error === null ? ['10.0.3.4'] : [],
    latencyNs,
    timedOut: error === 'timeout',
    error,
    truncated: false,
    answerTruncated: false,
  };
}

function signal(i: number, name: string, code: string): ProcessSignalEvent {
  return {
    ...header(i),
    comm: 'kubelet',
    kind: EventKind.ProcessSignal,
    signal: name === 'SIGKILL' ? 9 : 15,
    signalName: name,
    code,
    result: 'delivered',
    group: true,
    targetPid: 4121,
    targetTid: 4121,
    targetComm: 'worker',
    targetCgroupId: 4242,
    targetStartNs: 1,
    senderMeta: null,
  };
}

function slowWrite(i: number, ns: number): FileEvent {
  return {
    ...header(i),
    kind: EventKind.FileFsync,
    operation: 'fdatasync',
    path: '/var/lib/db/wal/000001',
    pathTruncated: false,
    fd: 7,
    bytes: 0,
    durationNs: ns,
    errno: 0,
    error: null,
  };
}

function runqueue(i: number, p99Ns: number): SchedRunqueueEvent {
  return {
    ...header(i),
    kind: EventKind.SchedRunqueue,
    intervalNs: 10e9,
    count: 1000,
    p50Ns: 50e3,
    p99Ns,
    maxNs: p99Ns * 2,
    meanNs: 80e3,
  };
}

describe('ReportBuilder breadth sections', () => {
  const groups = ['process', 'tcp', 'oom', 'signal', 'dns', 'file', 'sched'];

  it('reports DNS failures by name, slow fsyncs, fatal signals and run-queue waits with their numbers', () => {
    const events: PodtraceEvent[] = [
      ...Array.from({ length: 8 }, (_, i) => dns(i, null, (i + 1) * 1e6)),
      ...Array.from({ length: 3 }, (_, i) => dns(i, 'NXDOMAIN', 2e6)),
      dns(9, 'timeout', 5e9),
      ...Array.from({ length: 12 }, (_, i) => slowWrite(i, (i + 1) * 10e6)),
      signal(1, 'SIGKILL', 'SI_USER'),
      signal(2, 'SIGTERM', 'SI_USER'),
      runqueue(1, 2e6),
      runqueue(2, 25e6),
    ];
    const b = new ReportBuilder(new Set(groups));
    b.observe(events);
    const r = b.build({ target: TARGET, window: WINDOW, kernelLost: {}, unattributed: 0 });
    expect(r.sections.every((s) => s.available)).toBe(true);
    expect(r.findings.map((f) => [f.section, f.message])).toEqual([
      ['dns', '100 % of DNS A queries for db.shop.svc failed (3 NXDOMAIN, 1 timeout; 4 of 4)'],
      ['file', '12 slow fdatasync calls on /var/lib/db/wal/000001 (p99 120.0 ms, max 120.0 ms)'],
      ['signals', 'SIGKILL sent to `worker` once by `kubelet`'],
      ['runqueue', 'container api waited for a CPU up to 25.0 ms at p99 (max 50.0 ms)'],
    ]);
    const dnsBody = (r.sections.find((s) => s.id === 'dns') as AvailableSection).body;
    expect(dnsBody).toEqual({
      total: 12,
      servers: ['10.96.0.10:53'],
      queries: [
        {
          name: 'db.shop.svc.cluster.local',
          type: 'A',
          count: 8,
          failed: 0,
          errors: {},
          p50Ns: 4e6,
          p99Ns: 8e6,
        },
        {
          name: 'db.shop.svc',
          type: 'A',
          count: 4,
          failed: 4,
          errors: { NXDOMAIN: 3, timeout: 1 },
          p50Ns: null,
          p99Ns: null,
        },
      ],
    });
    const text = renderReportText(r);
    expect(text).toContain(
      '    db.shop.svc A                                 4       4        -        -  NXDOMAIN 3, timeout 1\n',
    );
    expect(text).toContain('         1  SIGKILL    → worker           from kubelet\n');
  });

  it('says a requested group whose probes did not attach is not available, with the kernel’s reason', () => {
    const b = new ReportBuilder(new Set(groups));
    const r = b.build({
      target: TARGET,
      window: WINDOW,
      kernelLost: {},
      unattributed: 0,
      unattached: { dns: 'cgroup_skb attach: EPERM' },
    });
    const s = r.sections.find((x) => x.id === 'dns');
    expect(s).toMatchObject({
      available: false,
      reason:
        'group not available: probe group "dns" did not attach on this kernel (cgroup_skb attach: EPERM)',
    });
  });

  it('lists a section of a group this build does not have as not available', () => {
    const defs: SectionDefinition[] = [
      ...SECTIONS,
      { id: 'io', title: 'Block I/O', probeGroup: 'block', create: null },
    ];
    const b = new ReportBuilder(new Set([...groups, 'block']), 10, defs);
    const r = b.build({ target: TARGET, window: WINDOW, kernelLost: {}, unattributed: 0 });
    expect(r.sections.at(-1)).toEqual({
      id: 'io',
      title: 'Block I/O',
      probeGroup: 'block',
      available: false,
      reason: 'group not available: probe group "block" is not in this podtrace build',
    });
  });
});
