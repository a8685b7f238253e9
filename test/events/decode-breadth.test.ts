import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import { buildDnsMessage } from '../../src/events/dns-message';
import type { PodtraceEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import { dnsRecord, fileRecord, schedRecord, signalRecord } from '../../src/events/record-encoder';

function decodeOne(record: Buffer): PodtraceEvent {
  const decoder = new RecordDecoder(new BootClock(() => 0));
  const events: PodtraceEvent[] = [];
  decoder.decode(record, events);
  expect(decoder.stats.malformed).toBe(0);
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('RecordDecoder (signal, dns, file, sched)', () => {
  describe('.decode', () => {
    it('decodes process.signal: sender in the header, target, names of signal, code and result', () => {
      const e = decodeOne(
        signalRecord(
          { pid: 10, comm: 'kubelet', cgroupId: 5 },
          {
            sig: 15,
            code: -6,
            result: 1,
            group: false,
            targetPid: 20,
            targetTid: 21,
            targetComm: 'nginx',
            targetCgroupId: 9,
          },
        ),
      );
      expect(e).toMatchObject({
        kind: EventKind.ProcessSignal,
        pid: 10,
        comm: 'kubelet',
        cgroupId: 5,
        signal: 15,
        signalName: 'SIGTERM',
        code: 'SI_TKILL',
        result: 'ignored',
        group: false,
        targetPid: 20,
        targetTid: 21,
        targetComm: 'nginx',
        targetCgroupId: 9,
        senderMeta: null,
      });
    });

    it('names real-time signals relative to the kernel SIGRTMIN and keeps fault codes as numbers', () => {
      const e = decodeOne(
        signalRecord({}, { sig: 34, code: 1, targetPid: 1, targetComm: 'x', targetCgroupId: 1 }),
      );
      expect(e).toMatchObject({ signalName: 'SIGRTMIN+2', code: '1', result: 'delivered' });
    });

    it('decodes a dns.query answer: question, type, rcode, answers, latency, addresses', () => {
      const message = buildDnsMessage({
        id: 0x1234,
        name: 'api.shop.svc',
        qtype: 1,
        rcode: 0,
        answers: ['10.0.0.7', '10.0.0.8'],
      });
      const e = decodeOne(
        dnsRecord(
          { pid: 42 },
          {
            saddr: [10, 0, 0, 5],
            daddr: [10, 96, 0, 10],
            sport: 40000,
            dport: 53,
            latencyNs: 1_500_000,
            message,
          },
        ),
      );
      expect(e).toMatchObject({
        kind: EventKind.DnsQuery,
        transport: 'udp',
        family: 4,
        clientAddr: '10.0.0.5',
        clientPort: 40000,
        serverAddr: '10.96.0.10',
        serverPort: 53,
        id: 0x1234,
        questionName: 'api.shop.svc',
        queryType: 'A',
        rcode: 0,
        answerCount: 2,
        answers: ['10.0.0.7', '10.0.0.8'],
        latencyNs: 1_500_000,
        timedOut: false,
        error: null,
        truncated: false,
      });
    });

    it('reports NXDOMAIN as the error and AAAA answers in RFC 5952 form', () => {
      const nx = decodeOne(
        dnsRecord(
          {},
          {
            saddr: [1, 2, 3, 4],
            daddr: [5, 6, 7, 8],
            sport: 1,
            dport: 53,
            latencyNs: 9,
            message: buildDnsMessage({ id: 1, name: 'nope.example', rcode: 3 }),
          },
        ),
      );
      expect(nx).toMatchObject({ rcode: 3, error: 'NXDOMAIN', answerCount: 0, answers: [] });
      const v6 = decodeOne(
        dnsRecord(
          {},
          {
            saddr: [1, 2, 3, 4],
            daddr: [5, 6, 7, 8],
            sport: 1,
            dport: 53,
            latencyNs: 9,
            message: buildDnsMessage({
              id: 2,
              name: 'six.example',
              qtype: 28,
              rcode: 0,
              answers: ['fd00::1'],
            }),
          },
        ),
      );
      expect(v6).toMatchObject({ queryType: 'AAAA', answers: ['fd00::1'] });
    });

    it('decodes a timed-out query from the query message: error timeout, no rcode, no answers', () => {
      const e = decodeOne(
        dnsRecord(
          {},
          {
            saddr: [127, 0, 0, 1],
            daddr: [127, 0, 0, 1],
            sport: 5,
            dport: 5353,
            latencyNs: 5e9,
            timedOut: true,
            message: buildDnsMessage({ id: 7, name: 'slow.example' }),
          },
        ),
      );
      expect(e).toMatchObject({
        questionName: 'slow.example',
        rcode: null,
        error: 'timeout',
        timedOut: true,
        answers: [],
      });
    });

    it('decodes an answer over TCP, and a UDP answer with TC set as answerTruncated', () => {
      const fields = { saddr: [10, 0, 0, 5], daddr: [10, 96, 0, 10], sport: 40001, dport: 53, latencyNs: 3 };
      const tcp = decodeOne(
        dnsRecord(
          {},
          {
            ...fields,
            transport: 'tcp',
            message: buildDnsMessage({ id: 9, name: 'big.example', rcode: 0, answers: ['10.0.0.9'] }),
          },
        ),
      );
      expect(tcp).toMatchObject({ transport: 'tcp', answers: ['10.0.0.9'], answerTruncated: false });
      expect(eventAttributes(tcp)['network.transport']).toBe('tcp');
      expect(eventAttributes(tcp)['podtrace.dns.answer_truncated']).toBeUndefined();
      const tc = decodeOne(
        dnsRecord(
          {},
          { ...fields, message: buildDnsMessage({ id: 9, name: 'big.example', rcode: 0, tc: true }) },
        ),
      );
      expect(tc).toMatchObject({ transport: 'udp', rcode: 0, error: null, answerTruncated: true });
      expect(eventAttributes(tc)['podtrace.dns.answer_truncated']).toBe(true);
    });

    it('keeps what was read of a message cut at the capture limit and flags it', () => {
      const answers = Array.from({ length: 40 }, (_, i) => `10.1.${i}.1`);
      const message = buildDnsMessage({ id: 3, name: 'many.example', rcode: 0, answers });
      expect(message.length).toBeGreaterThan(512);
      const e = decodeOne(
        dnsRecord(
          {},
          { saddr: [1, 1, 1, 1], daddr: [2, 2, 2, 2], sport: 1, dport: 53, latencyNs: 1, message },
        ),
      );
      if (e.kind !== EventKind.DnsQuery) throw new Error('kind');
      expect(e.truncated).toBe(true);
      expect(e.answerCount).toBe(40);
      expect(e.answers.length).toBeGreaterThan(10);
      expect(e.answers.length).toBeLessThan(40);
      expect(e.answers[0]).toBe('10.1.0.1');
    });

    it('decodes file events: operation, path (truncated marked), bytes, duration, errno', () => {
      const w = decodeOne(
        fileRecord({ kind: EventKind.FileFsync }, { durationNs: 7e6, op: 1, fd: 4, path: '/data/wal' }),
      );
      expect(w).toMatchObject({
        kind: EventKind.FileFsync,
        operation: 'fdatasync',
        path: '/data/wal',
        fd: 4,
        durationNs: 7e6,
        errno: 0,
        error: null,
      });
      const cut = decodeOne(
        fileRecord(
          { kind: EventKind.FileRead },
          { durationNs: 1, bytes: 4096, path: '/d/e/f', pathTruncated: true },
        ),
      );
      expect(cut).toMatchObject({ operation: 'read', path: '…/d/e/f', pathTruncated: true, bytes: 4096 });
      const open = decodeOne(
        fileRecord({ kind: EventKind.FileOpen }, { durationNs: 1, err: 13, fd: -1, path: '/etc/shadow' }),
      );
      expect(open).toMatchObject({ operation: 'openat', fd: -1, errno: 13, error: 'EACCES' });
    });

    it('decodes sched.runqueue: count, p50/p99 from the log2 histogram, max and mean', () => {
      const latencies = [...new Array<number>(98).fill(3000), 1_000_000, 2_000_000];
      const e = decodeOne(schedRecord({ cgroupId: 77 }, { intervalNs: 1e10, latenciesNs: latencies }));
      if (e.kind !== EventKind.SchedRunqueue) throw new Error('kind');
      expect(e.cgroupId).toBe(77);
      expect(e.pid).toBe(0);
      expect(e.count).toBe(100);
      expect(e.maxNs).toBe(2_000_000);
      // 3000 ns falls in [2048, 4096): the median is inside that slot.
      expect(e.p50Ns).toBeGreaterThanOrEqual(2048);
      expect(e.p50Ns).toBeLessThan(4096);
      // The 99th value (1 ms) is in [2^19, 2^20).
      expect(e.p99Ns).toBeGreaterThanOrEqual(524_288);
      expect(e.p99Ns).toBeLessThanOrEqual(1_048_576);
      expect(e.meanNs).toBe(Math.round((98 * 3000 + 3_000_000) / 100));
    });

    it('counts a record shorter than its kind as malformed', () => {
      const r = signalRecord({}, { sig: 1, targetPid: 1, targetComm: 'x', targetCgroupId: 1 }).subarray(
        0,
        104,
      );
      r.writeUInt16LE(104, 2);
      const decoder = new RecordDecoder(new BootClock(() => 0));
      const out: PodtraceEvent[] = [];
      decoder.decode(r, out);
      expect(out).toHaveLength(0);
      expect(decoder.stats.malformed).toBe(1);
    });
  });
});
