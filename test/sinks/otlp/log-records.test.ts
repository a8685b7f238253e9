import { encodeExportLogsServiceRequest } from '../../../src/sinks/spans/encode-logs-request';
import { encodeExportTraceServiceRequest } from '../../../src/sinks/spans/encode-trace-request';
import { PODTRACE_SCOPE } from '../../../src/sinks/spans/instrumentation-scope';
import type { LogRecordData } from '../../../src/sinks/spans/log-model';
import { groupByResource, groupLogsByResource } from '../../../src/sinks/spans/resource-spans';
import { SEMCONV_SCHEMA_URL } from '../../../src/sinks/spans/semconv-schema';
import { SpanMapper } from '../../../src/sinks/spans/span-mapper';
import type { SpanData } from '../../../src/sinks/spans/span-model';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import {
  TEST_BOOT_ID,
  WALL_CLOCK_OFFSET_NS,
  batch,
  oomKill,
  processExec,
  processExit,
  processFork,
  tcpConnect,
  tcpRetransmit,
  workloadMeta,
} from '../../helpers/events';
import { decodeTraceRequest, flattenLogsRequest, decodeLogsRequest } from '../../helpers/otlp-decode';
import { flattenRequest } from '../../helpers/otlp-receiver';

const SEC = 1_000_000_000;
const OBSERVED_NS = 1_735_700_000_000_000_000;
const hex = (b: Uint8Array | null): string => (b === null ? '' : Buffer.from(b).toString('hex'));

function mapper(logTraceContext = true): SpanMapper {
  return new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'node-a.example', nodeName: 'node-a' }),
    logTraceContext,
    nowUnixNs: () => OBSERVED_NS,
  });
}

function both(
  m: SpanMapper,
  ...events: Parameters<typeof batch>
): { spans: SpanData[]; logs: LogRecordData[] } {
  const spans: SpanData[] = [];
  const logs: LogRecordData[] = [];
  m.map(batch(...events), { spans, logs });
  return { spans, logs };
}

const meta = workloadMeta();
const parent = { pid: 100, procStartNs: 1000 * SEC, comm: 'sh', meta };
const child = { pid: 101, procStartNs: 1000 * SEC + 5_000, comm: 'curl', meta };

describe('SpanMapper', () => {
  describe('.map (logs)', () => {
    it('links events of a process that started before podtrace to the process span its exit will carry', () => {
      // No exec or fork was ever seen: the process was running when podtrace started.
      const m = mapper();
      const { logs } = both(
        m,
        tcpConnect({ ...parent, at: 1500 * SEC }),
        processExit({ ...parent, at: 1600 * SEC, exitCode: 0 }),
      );
      const exitSpan = m.mapBatch(batch(processExit({ ...parent, at: 1600 * SEC })))[0]!;
      expect(logs).toHaveLength(2);
      for (const log of logs) {
        expect(hex(log.traceId)).toBe(hex(exitSpan.traceId));
        expect(hex(log.spanId)).toBe(hex(exitSpan.spanId));
      }
    });

    it('leaves trace context off when the socket owner is unknown (pid 0) and when traces are off', () => {
      const unknownOwner = both(mapper(), tcpRetransmit({ pid: 0, procStartNs: 0, at: 5 * SEC, meta }));
      expect(unknownOwner.logs[0]!.traceId).toBeNull();
      expect(unknownOwner.logs[0]!.spanId).toBeNull();
      const noTraces = both(mapper(false), tcpConnect({ ...parent, at: 1500 * SEC }));
      expect(noTraces.logs[0]!.traceId).toBeNull();
      expect(noTraces.logs[0]!.spanId).toBeNull();
    });

    it('makes one record per event, forks and execs included, in the same pass that makes the spans', () => {
      const m = mapper();
      const { spans, logs } = both(
        m,
        processExec({ ...parent, at: parent.procStartNs + 10, ppid: 1, parentStartNs: 0 }),
        processFork({
          ...parent,
          at: parent.procStartNs + 20,
          childPid: 101,
          childStartNs: child.procStartNs,
        }),
        processExec({ ...child, at: child.procStartNs + 1, ppid: 100, parentStartNs: parent.procStartNs }),
        tcpConnect({ ...child, at: child.procStartNs + 2, error: 'ECONNREFUSED' }),
        processExit({ ...child, at: child.procStartNs + 3, exitCode: 7 }),
        processExit({ ...parent, at: parent.procStartNs + 4 * SEC, signal: 9, exitCode: null }),
      );
      expect(logs.map((l) => l.eventName)).toEqual([
        'podtrace.process.exec',
        'podtrace.process.fork',
        'podtrace.process.exec',
        'podtrace.tcp.connect',
        'podtrace.process.exit',
        'podtrace.process.exit',
      ]);
      expect(logs.map((l) => l.severityText)).toEqual(['INFO', 'INFO', 'INFO', 'WARN', 'WARN', 'WARN']);
      expect(spans.map((s) => s.name)).toEqual(['tcp.connect', 'process', 'process']);
      // The records point at the process spans the same pass made; resources are shared objects.
      const childSpan = spans[1]!;
      const parentSpan = spans[2]!;
      expect(hex(logs[0]!.spanId)).toBe(hex(parentSpan.spanId));
      expect(hex(logs[1]!.spanId)).toBe(hex(parentSpan.spanId));
      for (const i of [2, 3, 4]) {
        expect(hex(logs[i]!.spanId)).toBe(hex(childSpan.spanId));
        expect(hex(logs[i]!.traceId)).toBe(hex(childSpan.traceId));
      }
      expect(logs[3]!.resource).toBe(spans[0]!.resource);
      // An exit record has the exit's own attributes, not the exec's merged in as the span has.
      expect(logs[4]!.attributes['process.exit.code']).toBe(7);
      expect(logs[4]!.attributes['error.type']).toBe('7');
      expect(logs[4]!.attributes['process.command_args']).toBeUndefined();
      expect(childSpan.attributes['process.command_args']).toBeDefined();
      expect(logs[5]!.attributes['error.type']).toBe('SIGKILL');
    });

    it('marks an OOM kill WARN and a retransmit INFO', () => {
      const { logs } = both(
        mapper(),
        oomKill({ ...parent, at: 7 * SEC, victimPid: 300, victimComm: 'java' }),
        tcpRetransmit({ ...parent, at: 8 * SEC }),
      );
      expect(logs.map((l) => [l.eventName, l.severityNumber, l.severityText])).toEqual([
        ['podtrace.oom.kill', 13, 'WARN'],
        ['podtrace.tcp.retransmit', 9, 'INFO'],
      ]);
    });
  });
});

describe('encodeExportLogsServiceRequest', () => {
  it('writes every LogRecord field by the official field numbers, decoded as a Collector does', () => {
    const m = mapper();
    const at = child.procStartNs + 2;
    const { spans, logs } = both(
      m,
      processExec({ ...parent, at: parent.procStartNs + 10, ppid: 1, parentStartNs: 0 }),
      processFork({ ...parent, at: parent.procStartNs + 20, childPid: 101, childStartNs: child.procStartNs }),
      tcpConnect({ ...child, at, error: 'ECONNREFUSED' }),
      tcpRetransmit({ pid: 0, procStartNs: 0, at: at + 1, meta }),
    );
    const body = encodeExportLogsServiceRequest(groupLogsByResource(logs));
    const records = flattenLogsRequest(decodeLogsRequest(body));
    expect(records).toHaveLength(4);
    const connect = records[2]!;
    expect(connect.eventName).toBe('podtrace.tcp.connect');
    expect(connect.timeUnixNano).toBe(BigInt(WALL_CLOCK_OFFSET_NS + at));
    expect(connect.observedTimeUnixNano).toBe(BigInt(OBSERVED_NS));
    expect(connect.severityNumber).toBe('SEVERITY_NUMBER_WARN');
    expect(connect.severityText).toBe('WARN');
    expect(connect.body).toBeNull();
    expect(connect.attributes).toMatchObject({
      'process.pid': 101,
      'process.executable.name': 'curl',
      'network.peer.address': '10.96.0.10',
      'server.port': 5432,
      'error.type': 'ECONNREFUSED',
      'podtrace.enrichment': 'complete',
    });
    // The connect's process (101) has no span yet in this batch; its ids are the ones it will have.
    const exit = m.mapBatch(batch(processExit({ ...child, at: at + 10 })))[0]!;
    expect(connect.traceId).toBe(hex(exit.traceId));
    expect(connect.spanId).toBe(hex(exit.spanId));
    expect(connect.traceId).toBe(hex(spans[0]!.traceId));
    expect(connect.flags).toBe(1);
    expect(connect.resource['service.name']).toBe(meta.serviceName);
    expect(connect.resource['k8s.pod.name']).toBe(meta.podName);
    expect(connect.resource['container.runtime.name']).toBe('containerd');
    expect(connect.resource['container.runtime']).toBeUndefined();
    expect(connect.scope).toEqual({ name: PODTRACE_SCOPE.name, version: PODTRACE_SCOPE.version });
    expect(connect.resourceSchemaUrl).toBe(SEMCONV_SCHEMA_URL);
    expect(connect.scopeSchemaUrl).toBe(SEMCONV_SCHEMA_URL);
    const unowned = records[3]!;
    expect(unowned.traceId).toBe('');
    expect(unowned.spanId).toBe('');
    expect(unowned.flags).toBe(0);
    expect(unowned.severityText).toBe('INFO');
  });

  it('groups records under the same per-container resources as the spans', () => {
    const other = workloadMeta({ pod: 'other-1' });
    const { spans, logs } = both(
      mapper(),
      tcpConnect({ ...child, at: child.procStartNs + 2 }),
      tcpConnect({ pid: 200, procStartNs: 5 * SEC, at: 6 * SEC, meta: other }),
      tcpConnect({ ...child, at: child.procStartNs + 3 }),
    );
    const logGroups = groupLogsByResource(logs);
    const spanGroups = groupByResource(spans);
    expect(logGroups.map((g) => g.resource)).toEqual(spanGroups.map((g) => g.resource));
    expect(logGroups.map((g) => g.records.length)).toEqual([2, 1]);
    const decoded = decodeLogsRequest(encodeExportLogsServiceRequest(logGroups));
    expect(decoded.resourceLogs).toHaveLength(2);
  });
});

describe('encodeExportTraceServiceRequest', () => {
  it('sets schema_url on every resource and scope', () => {
    const spans = mapper().mapBatch(batch(tcpConnect({ ...child, at: child.procStartNs + 2 })));
    const decoded = decodeTraceRequest(encodeExportTraceServiceRequest(groupByResource(spans)));
    expect(decoded.resourceSpans[0].schemaUrl).toBe(SEMCONV_SCHEMA_URL);
    expect(decoded.resourceSpans[0].scopeSpans[0].schemaUrl).toBe(SEMCONV_SCHEMA_URL);
    expect(flattenRequest(decoded)[0]!.name).toBe('tcp.connect');
  });
});
