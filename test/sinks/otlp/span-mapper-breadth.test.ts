import { EventKind } from '../../../src/events/event-kind';
import { formatText } from '../../../src/sinks/console/console-sink';
import { SpanMapper } from '../../../src/sinks/spans/span-mapper';
import { SpanKind, StatusCode } from '../../../src/sinks/spans/span-model';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import { TEST_BOOT_ID } from '../../helpers/events';
import { makeEvent, podMeta } from '../../helpers/kafka-events';

function mapOne(kind: EventKind, i: number): ReturnType<SpanMapper['mapBatch']>[number] {
  const m = new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'node-a.example', nodeName: 'node-a' }),
  });
  const [span] = m.mapBatch({ events: [makeEvent(i, kind, podMeta('shop', 'web-1', 'uid-1'))] });
  if (span === undefined) throw new Error('no span');
  return span;
}

describe('SpanMapper (signal, dns, file, sched)', () => {
  describe('.mapBatch', () => {
    it('names spans by event kind (low cardinality) and makes dns.query a CLIENT span', () => {
      expect(mapOne(EventKind.DnsQuery, 2)).toMatchObject({ name: 'dns.query', kind: SpanKind.Client });
      expect(mapOne(EventKind.FileFsync, 2)).toMatchObject({ name: 'file.fsync', kind: SpanKind.Internal });
      expect(mapOne(EventKind.ProcessSignal, 2)).toMatchObject({ name: 'process.signal' });
      expect(mapOne(EventKind.SchedRunqueue, 2)).toMatchObject({
        name: 'sched.runqueue',
        durationNs: 10_000_000_000,
      });
    });

    it('marks failed DNS queries and file calls as errors with the rcode, timeout or errno', () => {
      // makeEvent: i % 4 === 0 times out, i % 4 === 1 is NXDOMAIN, else answered.
      expect(mapOne(EventKind.DnsQuery, 0)).toMatchObject({
        statusCode: StatusCode.Error,
        statusMessage: 'timeout',
      });
      const nx = mapOne(EventKind.DnsQuery, 1);
      expect(nx).toMatchObject({ statusCode: StatusCode.Error, statusMessage: 'NXDOMAIN' });
      expect(nx.attributes['error.type']).toBe('NXDOMAIN');
      const ok = mapOne(EventKind.DnsQuery, 2);
      expect(ok.statusCode).toBe(StatusCode.Unset);
      expect(ok.attributes['dns.question.name']).toBe('api.shop.svc.cluster.local');
      expect(ok.attributes['dns.answers']).toEqual(['10.96.4.2']);
      expect(ok.durationNs).toBe(1_200_000);
      expect(mapOne(EventKind.FileOpen, 3)).toMatchObject({
        statusCode: StatusCode.Error,
        statusMessage: 'EACCES',
      });
    });
  });
});

describe('formatText (signal, dns, file, sched)', () => {
  it('prints one line per new kind with what an operator reads first', () => {
    const meta = podMeta('shop', 'web-1', 'uid-1');
    expect(formatText(makeEvent(1, EventKind.DnsQuery, meta))).toMatch(
      /dns\.query +shop\/web-1\/app .* A api\.shop\.svc\.cluster\.local → 10\.96\.0\.10:53 NXDOMAIN 1\.2ms$/,
    );
    expect(formatText(makeEvent(2, EventKind.ProcessSignal, meta))).toMatch(
      /SIGTERM → pid=4002 comm=nginx SI_USER delivered$/,
    );
    expect(formatText(makeEvent(3, EventKind.FileFsync, meta))).toMatch(
      /fdatasync \/var\/lib\/db\/wal-0001 8192B 15\.0ms$/,
    );
    expect(formatText(makeEvent(4, EventKind.SchedRunqueue, meta))).toMatch(
      /runqueue n=12000 p50=6\.0µs p99=900\.0µs max=4\.0ms$/,
    );
  });
});
