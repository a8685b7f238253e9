import { SpanMapper } from '../../../src/sinks/spans/span-mapper';
import type { SpanData } from '../../../src/sinks/spans/span-model';
import { SpanKind, StatusCode } from '../../../src/sinks/spans/span-model';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import { eventsToResourceSpans } from '../../../src/sinks/spans/resource-spans';
import {
  TEST_BOOT_ID,
  batch,
  hostMeta,
  processExec,
  processExit,
  processFork,
  tcpClose,
  tcpConnect,
  workloadMeta,
} from '../../helpers/events';

const SEC = 1_000_000_000;
const hex = (b: Uint8Array | null): string => (b === null ? '' : Buffer.from(b).toString('hex'));

function mapper(over: Partial<ConstructorParameters<typeof SpanMapper>[0]> = {}): SpanMapper {
  return new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'node-a.example', nodeName: 'node-a' }),
    ...over,
  });
}

const meta = workloadMeta();
const parent = { pid: 100, procStartNs: 1000 * SEC, comm: 'sh', meta };
const child = { pid: 101, procStartNs: 1000 * SEC + 5_000, comm: 'curl', meta };

describe('SpanMapper', () => {
  describe('.mapBatch', () => {
    it('gives a process the same ids in every mapper of the same boot, and different ones in another boot', () => {
      const run = (m: SpanMapper): SpanData =>
        m.mapBatch(batch(processExit({ ...parent, at: 1001 * SEC })))[0]!;
      const a = run(mapper());
      const b = run(mapper());
      const other = run(mapper({ bootId: '00000000-1111-2222-3333-444444444444' }));
      expect(hex(a.spanId)).toBe(hex(b.spanId));
      expect(hex(a.traceId)).toBe(hex(b.traceId));
      expect(hex(a.spanId)).not.toBe(hex(other.spanId));
      expect(a.spanId).toHaveLength(8);
      expect(a.traceId).toHaveLength(16);
    });

    it('puts a child started within maxTraceSeconds in its parent trace and an older one in its own trace with a link', () => {
      const m = mapper({ maxTraceSeconds: 60 });
      m.mapBatch(batch(processExec({ ...parent, at: parent.procStartNs + 10, ppid: 1, parentStartNs: 0 })));
      const young = { pid: 102, procStartNs: parent.procStartNs + 59 * SEC, comm: 'curl', meta };
      const old = { pid: 103, procStartNs: parent.procStartNs + 61 * SEC, comm: 'curl', meta };
      const spans = m.mapBatch(
        batch(
          processExec({ ...young, at: young.procStartNs + 1, ppid: 100, parentStartNs: parent.procStartNs }),
          processExec({ ...old, at: old.procStartNs + 1, ppid: 100, parentStartNs: parent.procStartNs }),
          processExit({ ...young, at: young.procStartNs + 2 * SEC }),
          processExit({ ...old, at: old.procStartNs + 2 * SEC }),
          processExit({ ...parent, at: parent.procStartNs + 70 * SEC }),
        ),
      );
      const [y, o, p] = spans as [SpanData, SpanData, SpanData];
      expect(hex(y.traceId)).toBe(hex(p.traceId));
      expect(hex(y.parentSpanId)).toBe(hex(p.spanId));
      expect(hex(o.traceId)).not.toBe(hex(p.traceId));
      expect(o.parentSpanId).toBeNull();
      expect(o.links?.map((l) => [hex(l.traceId), hex(l.spanId)])).toEqual([[hex(p.traceId), hex(p.spanId)]]);
    });

    it('makes events of processes started before podtrace root spans linking to the process span', () => {
      const m = mapper();
      const running = { pid: 300, procStartNs: 5 * SEC, comm: 'nginx', meta };
      const [connect] = m.mapBatch(batch(tcpConnect({ ...running, at: 9000 * SEC })));
      const [proc] = m.mapBatch(batch(processExit({ ...running, at: 9001 * SEC })));
      expect(connect!.parentSpanId).toBeNull();
      expect(connect!.kind).toBe(SpanKind.Client);
      expect(connect!.links?.map((l) => [hex(l.traceId), hex(l.spanId)])).toEqual([
        [hex(proc!.traceId), hex(proc!.spanId)],
      ]);
      expect(hex(connect!.traceId)).not.toBe(hex(proc!.traceId));
      expect(proc!.durationNs).toBe(9001 * SEC - 5 * SEC);
    });

    it('follows fork without exec: the forked child is a child span carrying its own exit', () => {
      const m = mapper();
      m.mapBatch(batch(processExec({ ...parent, at: parent.procStartNs + 1, ppid: 1, parentStartNs: 0 })));
      const spans = m.mapBatch(
        batch(
          processFork({
            ...parent,
            at: child.procStartNs,
            childPid: child.pid,
            childStartNs: child.procStartNs,
          }),
          processExit({ ...child, comm: 'sh', at: child.procStartNs + SEC, exitCode: null, signal: 9 }),
          processExit({ ...parent, at: parent.procStartNs + 2 * SEC }),
        ),
      );
      const [c, p] = spans as [SpanData, SpanData];
      expect(hex(c.parentSpanId)).toBe(hex(p.spanId));
      expect(c.statusCode).toBe(StatusCode.Error);
      expect(c.attributes['error.type']).toBe('SIGKILL');
      expect(c.events).toBeNull();
      expect(p.events?.map((e) => e.name)).toEqual(['process.exec']);
      expect(m.trackedProcesses).toBe(0);
    });

    it('keeps its process table bounded and counts what it forgets', () => {
      const m = mapper({ maxTrackedProcesses: 16 });
      const execs = Array.from({ length: 40 }, (_, i) =>
        processExec({
          pid: 1000 + i,
          procStartNs: 50 * SEC + i,
          comm: 'w',
          meta,
          at: 50 * SEC + i + 1,
          ppid: 1,
          parentStartNs: 0,
        }),
      );
      m.mapBatch({ events: execs });
      expect(m.trackedProcesses).toBe(16);
      expect(m.evictions).toBe(24);
    });

    describe("a `sh -c 'curl …'` tree (sh started by a shell podtrace never saw)", () => {
      const sh = { pid: 200, procStartNs: 2000 * SEC, comm: 'sh', meta };
      const curl = { pid: 201, procStartNs: 2000 * SEC + 40_000, comm: 'curl', meta };
      const start = (m: SpanMapper): void => {
        m.mapBatch(
          batch(
            processExec({ ...sh, at: sh.procStartNs + 10, ppid: 150, parentStartNs: 5 * SEC }),
            processFork({ ...sh, at: curl.procStartNs, childPid: curl.pid, childStartNs: curl.procStartNs }),
            processExec({ ...curl, at: curl.procStartNs + 10, ppid: sh.pid, parentStartNs: sh.procStartNs }),
          ),
        );
      };

      it("puts the close that follows curl's exit under curl's process span, in sh's trace", () => {
        const m = mapper();
        start(m);
        // do_exit reports the exit before it closes the files: the socket's close comes after.
        const [connect, curlSpan, close, shSpan] = m.mapBatch(
          batch(
            tcpConnect({ ...curl, at: curl.procStartNs + SEC }),
            processExit({ ...curl, at: curl.procStartNs + 2 * SEC }),
            tcpClose({ ...curl, at: curl.procStartNs + 2 * SEC + 30_000 }),
            processExit({ ...sh, at: curl.procStartNs + 3 * SEC }),
          ),
        ) as [SpanData, SpanData, SpanData, SpanData];
        expect(hex(curlSpan.traceId)).toBe(hex(shSpan.traceId));
        expect(hex(curlSpan.parentSpanId)).toBe(hex(shSpan.spanId));
        for (const s of [connect, close]) {
          expect(hex(s.traceId)).toBe(hex(shSpan.traceId));
          expect(hex(s.parentSpanId)).toBe(hex(curlSpan.spanId));
          expect(s.links).toBeNull();
        }
        expect(m.trackedProcesses).toBe(0);
      });

      it("links an exited process's late event past maxTraceSeconds to the trace its span really got", () => {
        const m = mapper({ maxTraceSeconds: 60 });
        start(m);
        const [curlSpan, close] = m.mapBatch(
          batch(
            processExit({ ...curl, at: curl.procStartNs + 59 * SEC }),
            tcpClose({ ...curl, at: curl.procStartNs + 61 * SEC }),
          ),
        ) as [SpanData, SpanData];
        expect(close.parentSpanId).toBeNull();
        expect(close.links?.map((l) => [hex(l.traceId), hex(l.spanId)])).toEqual([
          [hex(curlSpan.traceId), hex(curlSpan.spanId)],
        ]);
        // curl lives in sh's trace, not in a trace of its own pid.
        const own = mapper().mapBatch(batch(processExit({ ...curl, at: curl.procStartNs + SEC })))[0]!;
        expect(hex(close.links![0]!.traceId)).not.toBe(hex(own.traceId));
      });

      it("puts a child whose exec arrives after sh exited (no fork seen) in sh's trace", () => {
        const m = mapper();
        m.mapBatch(batch(processExec({ ...sh, at: sh.procStartNs + 10, ppid: 150, parentStartNs: 5 * SEC })));
        const late = { pid: 202, procStartNs: sh.procStartNs + SEC, comm: 'sleep', meta };
        const [shSpan, lateSpan] = m.mapBatch(
          batch(
            processExit({ ...sh, at: sh.procStartNs + SEC + 100 }),
            processExec({ ...late, at: late.procStartNs + 200, ppid: sh.pid, parentStartNs: sh.procStartNs }),
            processExit({ ...late, at: late.procStartNs + 2 * SEC }),
          ),
        ) as [SpanData, SpanData];
        expect(hex(lateSpan.traceId)).toBe(hex(shSpan.traceId));
        expect(hex(lateSpan.parentSpanId)).toBe(hex(shSpan.spanId));
      });
    });

    it("names a host process's events by its executable, not by the thread that made the call", () => {
      const host = hostMeta();
      const kcat = { pid: 400, procStartNs: 3000 * SEC, comm: 'kcat', meta: host };
      const m = mapper();
      const groups = eventsToResourceSpans(
        batch(
          processExec({ ...kcat, at: kcat.procStartNs + 10, ppid: 1, parentStartNs: 0 }),
          tcpConnect({ ...kcat, tid: 401, comm: 'rdk:broker-1', at: kcat.procStartNs + SEC }),
          tcpConnect({ ...kcat, tid: 402, comm: 'rdk:broker3', at: kcat.procStartNs + 2 * SEC }),
          // A forked worker that never execs runs kcat too.
          processFork({
            ...kcat,
            at: kcat.procStartNs + 3 * SEC,
            childPid: 410,
            childStartNs: kcat.procStartNs + 3 * SEC,
          }),
          tcpClose({
            pid: 410,
            procStartNs: kcat.procStartNs + 3 * SEC,
            comm: 'rdk:main',
            meta: host,
            at: kcat.procStartNs + 4 * SEC,
          }),
          processExit({ ...kcat, at: kcat.procStartNs + 5 * SEC }),
        ),
        m,
      );
      expect(
        groups.map((g) => [
          g.resource.attributes['service.name'],
          g.resource.attributes['service.namespace'],
          g.spans.length,
        ]),
      ).toEqual([['kcat', 'host', 4]]);
    });

    it('names host processes by executable under service.namespace host, one resource per executable', () => {
      const host = hostMeta();
      const groups = eventsToResourceSpans(
        batch(
          tcpConnect({ pid: 7, procStartNs: SEC, at: 10 * SEC, comm: 'kubelet', meta: host }),
          tcpConnect({ pid: 8, procStartNs: SEC, at: 11 * SEC, comm: 'containerd', meta: host }),
          tcpConnect({ pid: 7, procStartNs: SEC, at: 12 * SEC, comm: 'kubelet', meta: host }),
        ),
        mapper(),
      );
      expect(
        groups.map((g) => [
          g.resource.attributes['service.name'],
          g.resource.attributes['service.namespace'],
          g.spans.length,
        ]),
      ).toEqual([
        ['kubelet', 'host', 2],
        ['containerd', 'host', 1],
      ]);
      expect(groups[0]!.resource.attributes['service.instance.id']).toBe('node-a.kubelet');
    });
  });
});
