import { BootClock } from '../../src/events/clock';
import { RecordDecoder, formatIPv6 } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import type { CgroupChange } from '../../src/events/event';
import { EXEC, FLAG_OWNER_UNKNOWN, FLAG_PREEXISTING, HEADER } from '../../src/events/layout';
import { cgroupRecord, execRecord, exitRecord, forkRecord, oomRecord, tcpRecord } from '../helpers/records';

const OFFSET = 1_700_000_000_000_000_000;

function decode(...records: Buffer[]): { events: PodtraceEvent[]; decoder: RecordDecoder } {
  const decoder = new RecordDecoder(new BootClock(() => OFFSET));
  const events: PodtraceEvent[] = [];
  decoder.decode(Buffer.concat(records), events);
  return { events, decoder };
}

describe('RecordDecoder', () => {
  describe('.decode', () => {
    it('decodes process.exec with filename, argv, parent and wall-clock time', () => {
      const { events } = decode(
        execRecord(
          { pid: 4121, tsNs: 10_000_000_123, cgroupId: 77, comm: 'true', procStartNs: 9_000 },
          {
            ppid: 4090,
            uid: 1000,
            parentStartNs: 8_000,
            filename: '/usr/bin/true',
            argv: ['true', '--flag', 'x y'],
          },
        ),
      );
      expect(events).toHaveLength(1);
      const e = events[0]!;
      expect(e.kind).toBe(EventKind.ProcessExec);
      if (e.kind !== EventKind.ProcessExec) throw new Error('kind');
      expect(e).toMatchObject({
        pid: 4121,
        ppid: 4090,
        uid: 1000,
        parentStartNs: 8_000,
        cgroupId: 77,
        comm: 'true',
        procStartNs: 9_000,
      });
      expect(e.filename).toBe('/usr/bin/true');
      expect(e.args).toEqual(['true', '--flag', 'x y']);
      expect(e.argsTruncated).toBe(false);
      expect(e.timeUnixNs).toBe(10_000_000_123 + OFFSET);
    });

    it('decodes process.exit status and signal', () => {
      const { events } = decode(
        exitRecord({ pid: 1, comm: 'a' }, { exitCode: 3 << 8, lifetimeNs: 1_900_000 }),
        exitRecord({ pid: 2, comm: 'b' }, { exitCode: 9, lifetimeNs: 5 }),
      );
      expect(
        events.map((e) => (e.kind === EventKind.ProcessExit ? [e.exitCode, e.signal, e.lifetimeNs] : null)),
      ).toEqual([
        [3, null, 1_900_000],
        [null, 9, 5],
      ]);
    });

    it('decodes process.fork', () => {
      const { events } = decode(forkRecord({ pid: 10 }, { childPid: 11, childStartNs: 123 }));
      expect(events[0]).toMatchObject({
        kind: EventKind.ProcessFork,
        pid: 10,
        childPid: 11,
        childStartNs: 123,
      });
    });

    it('decodes tcp.connect success and refusal with the errno name', () => {
      const { events } = decode(
        tcpRecord(
          { kind: EventKind.TcpConnect, pid: 7 },
          {
            saddr: [10, 0, 0, 5],
            daddr: [127, 0, 0, 1],
            sport: 41234,
            dport: 8080,
            oldState: 2,
            newState: 1,
            durationNs: 1_200_000,
          },
        ),
        tcpRecord(
          { kind: EventKind.TcpConnect, pid: 7 },
          {
            saddr: [127, 0, 0, 1],
            daddr: [127, 0, 0, 1],
            sport: 40000,
            dport: 9,
            oldState: 2,
            newState: 7,
            err: 111,
          },
        ),
      );
      expect(events[0]).toMatchObject({
        localAddr: '10.0.0.5',
        localPort: 41234,
        remoteAddr: '127.0.0.1',
        remotePort: 8080,
        latencyNs: 1_200_000,
        errno: 0,
        error: null,
        family: 4,
      });
      expect(events[1]).toMatchObject({ remotePort: 9, errno: 111, error: 'ECONNREFUSED' });
    });

    it('decodes IPv6 tcp.accept, tcp.close and tcp.retransmit', () => {
      const lo6 = [...new Array<number>(15).fill(0), 1];
      const { events } = decode(
        tcpRecord(
          { kind: EventKind.TcpAccept },
          { saddr: lo6, daddr: lo6, sport: 80, dport: 5555, oldState: 3, newState: 1 },
        ),
        tcpRecord(
          { kind: EventKind.TcpClose, flags: FLAG_OWNER_UNKNOWN, pid: 0 },
          {
            saddr: lo6,
            daddr: lo6,
            sport: 80,
            dport: 5555,
            oldState: 4,
            newState: 7,
            durationNs: 99,
            bytesSent: 10,
            bytesReceived: 20,
          },
        ),
        tcpRecord(
          { kind: EventKind.TcpRetransmit },
          { saddr: [1, 2, 3, 4], daddr: [5, 6, 7, 8], sport: 1, dport: 2, oldState: 1, newState: 1 },
        ),
      );
      expect(events[0]).toMatchObject({
        kind: EventKind.TcpAccept,
        family: 6,
        localAddr: '::1',
        remotePort: 5555,
      });
      expect(events[1]).toMatchObject({
        kind: EventKind.TcpClose,
        durationNs: 99,
        bytesSent: 10,
        bytesReceived: 20,
        oldState: 'FIN_WAIT1',
        pid: 0,
      });
      expect(events[1]!.flags & FLAG_OWNER_UNKNOWN).toBe(FLAG_OWNER_UNKNOWN);
      expect(events[2]).toMatchObject({
        kind: EventKind.TcpRetransmit,
        state: 'ESTABLISHED',
        remoteAddr: '5.6.7.8',
      });
    });

    it('decodes oom.kill', () => {
      const { events } = decode(
        oomRecord(
          { pid: 42, comm: 'hog', cgroupId: 99 },
          { victimPid: 42, triggerPid: 3, victimComm: 'hog', victimCgroupId: 99, pages: 1000, rssPages: 900 },
        ),
      );
      expect(events[0]).toMatchObject({
        kind: EventKind.OomKill,
        pid: 42,
        victimPid: 42,
        triggerPid: 3,
        victimComm: 'hog',
        victimCgroupId: 99,
        pages: 1000,
        rssPages: 900,
      });
    });

    it('decodes comm, argv and filename as UTF-8 and replaces invalid bytes with U+FFFD', () => {
      const rec = execRecord(
        { pid: 7, comm: 'grüße-wörker' },
        { ppid: 1, uid: 0, parentStartNs: 0, filename: '/tmp/xx.bin', argv: ['/bin/echo', 'grüße', '日本'] },
      );
      // The kernel hands bytes: put an invalid sequence (0xff 0xfe) into the filename, as a file
      // created with `printf '\xff\xfe'` would have.
      rec[EXEC.filename + 5] = 0xff;
      rec[EXEC.filename + 6] = 0xfe;
      const { events } = decode(rec);
      const e = events[0]!;
      if (e.kind !== EventKind.ProcessExec) throw new Error('kind');
      expect(e.comm).toBe('grüße-wörker');
      expect(e.args).toEqual(['/bin/echo', 'grüße', '日本']);
      expect(e.filename).toBe('/tmp/\ufffd\ufffd.bin');
    });

    it('keeps a comm cut inside a multi-byte character as U+FFFD, not as latin1 mojibake', () => {
      const rec = exitRecord({ pid: 1, comm: 'x' }, { exitCode: 0, lifetimeNs: 0 });
      // 14 ASCII bytes then the first byte of 'ü' (0xc3): what the kernel keeps of a 15-byte cut.
      Buffer.from('abcdefghijklmn\xc3', 'latin1').copy(rec, HEADER.comm);
      expect(decode(rec).events[0]!.comm).toBe('abcdefghijklmn\ufffd');
    });

    it('decodes the owning thread and a connection older than podtrace on tcp events', () => {
      const { events } = decode(
        tcpRecord(
          { kind: EventKind.TcpConnect, pid: 50, tid: 53, comm: 'java', flags: 0 },
          {
            saddr: [10, 0, 0, 1],
            daddr: [10, 0, 0, 2],
            sport: 1,
            dport: 2,
            oldState: 2,
            newState: 1,
            threadComm: 'bar-worker-thr',
          },
        ),
        tcpRecord(
          { kind: EventKind.TcpClose, pid: 60, comm: 'python3', flags: FLAG_PREEXISTING },
          { saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2], sport: 8080, dport: 40000, oldState: 1, newState: 7 },
        ),
      );
      expect(events[0]).toMatchObject({
        pid: 50,
        tid: 53,
        comm: 'java',
        threadName: 'bar-worker-thr',
        observedSinceStart: false,
      });
      expect(events[1]).toMatchObject({ pid: 60, comm: 'python3', observedSinceStart: true, durationNs: 0 });
    });

    it('hands cgroup.mkdir / cgroup.rmdir to the cgroup list, not to the events', () => {
      const decoder = new RecordDecoder(new BootClock(() => OFFSET));
      const events: PodtraceEvent[] = [];
      const cgroups: CgroupChange[] = [];
      const path = '/kubepods.slice/kubepods-pod1234.slice/cri-containerd-ab.scope';
      decoder.decode(
        Buffer.concat([
          cgroupRecord({ tsNs: 5 }, { op: 'mkdir', id: 4711, path }),
          forkRecord({ pid: 2 }, { childPid: 3, childStartNs: 0 }),
          cgroupRecord({ tsNs: 6 }, { op: 'rmdir', id: 4711, path }),
          cgroupRecord({ tsNs: 7 }, { op: 'mkdir', id: 4712, path: `/${'x'.repeat(600)}` }),
        ]),
        events,
        cgroups,
      );
      expect(events.map((e) => e.kind)).toEqual([EventKind.ProcessFork]);
      expect(cgroups).toEqual([
        { op: 'mkdir', id: 4711, path, truncated: false, bootNs: 5 },
        { op: 'rmdir', id: 4711, path, truncated: false, bootNs: 6 },
        expect.objectContaining({ op: 'mkdir', id: 4712, truncated: true }),
      ]);
      expect(decoder.stats.malformed).toBe(0);
      expect(decoder.stats.perKind[9]).toBe(2);
    });

    it('counts an unknown kind as malformed and keeps decoding', () => {
      const bad = exitRecord({ pid: 1 }, { exitCode: 0, lifetimeNs: 0 });
      bad.writeUInt16LE(200, 0);
      const { events, decoder } = decode(bad, forkRecord({ pid: 2 }, { childPid: 3, childStartNs: 0 }));
      expect(events.map((e) => e.pid)).toEqual([2]);
      expect(decoder.stats.malformed).toBe(1);
    });

    it('stops at a record whose size overruns the batch', () => {
      const cut = exitRecord({ pid: 1 }, { exitCode: 0, lifetimeNs: 0 }).subarray(0, 60);
      const { events, decoder } = decode(cut);
      expect(events).toHaveLength(0);
      expect(decoder.stats.malformed).toBe(1);
    });
  });
});

describe('formatIPv6', () => {
  it('compresses the longest zero run and prints IPv4-mapped addresses', () => {
    expect(formatIPv6(Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 0)).toBe(
      '2001:db8::1',
    );
    expect(formatIPv6(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]), 0)).toBe(
      '::ffff:10.1.2.3',
    );
    expect(formatIPv6(Buffer.from([0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 5]), 0)).toBe(
      '1:0:2:0:3:0:4:5',
    );
  });
});
