import { validateConfig } from '../../../src/config/load-config';
import { silentLogger } from '../../../src/core/logger';
import type { EventBatch } from '../../../src/events/event';
import { createOtlpRecordEncoder } from '../../../src/sinks/kafka/kafka-otlp-encoder';
import { BatchMapping, createBatchMapping } from '../../../src/sinks/spans/batch-mapping';
import { SpanMapper } from '../../../src/sinks/spans/span-mapper';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import { sharedBatchMapping } from '../../../src/sinks/spans/shared-mapping';
import {
  TEST_BOOT_ID,
  batch,
  processExec,
  processExit,
  processFork,
  tcpConnect,
  workloadMeta,
} from '../../helpers/events';
import { decodeLogsRequest, decodeTraceRequest, flattenLogsRequest } from '../../helpers/otlp-decode';
import { flattenRequest } from '../../helpers/otlp-receiver';

const SEC = 1_000_000_000;
const meta = workloadMeta();
const proc = { pid: 200, procStartNs: 500 * SEC, comm: 'app', meta };
const hex = (b: Uint8Array | null): string => (b === null ? '' : Buffer.from(b).toString('hex'));

function mapping(wants = { spans: true, logs: true }): BatchMapping {
  return createBatchMapping({
    ...wants,
    nodeName: 'node-a',
    hostName: 'node-a.example',
    bootId: TEST_BOOT_ID,
    env: {},
    logger: silentLogger(),
  });
}

/** A process that execs twice and exits, with a connect in between: 4 events, 2 spans. */
function life(): EventBatch[] {
  return [
    batch(
      processExec({ ...proc, at: proc.procStartNs + 10, ppid: 1, parentStartNs: 0 }),
      tcpConnect({ ...proc, at: proc.procStartNs + SEC, remoteAddr: '10.0.0.9', remotePort: 443 }),
    ),
    batch(
      processExec({ ...proc, at: proc.procStartNs + 2 * SEC, ppid: 1, parentStartNs: 0, filename: '/bin/b' }),
      processExit({ ...proc, at: proc.procStartNs + 3 * SEC }),
    ),
  ];
}

describe('BatchMapping', () => {
  describe('.map', () => {
    it('maps a batch once however many sinks ask: the process table sees each event once', () => {
      const m = mapping();
      const [first, second] = life();
      const a = m.map(first!);
      expect(m.map(first!)).toBe(a);
      m.map(second!);
      const again = m.map(second!);
      const exit = again.spans.find((s) => s.name === 'process')!;
      // Two execs, one span event each: mapping the batches twice would have folded four.
      expect(exit.events).toHaveLength(2);
      expect(again.logs).toHaveLength(2);
    });

    it('gives every later caller of a batch the error its mapping threw, without mapping it again', () => {
      const inner = new SpanMapper({
        bootId: TEST_BOOT_ID,
        resources: new SpanResources({ hostName: 'h', nodeName: 'n' }),
      });
      let calls = 0;
      const failing = Object.assign(Object.create(inner) as SpanMapper, {
        map: () => {
          calls++;
          throw new TypeError('boom');
        },
      });
      const m = new BatchMapping(failing, { spans: true, logs: false });
      const b = batch(processExit({ ...proc, at: proc.procStartNs + SEC }));
      expect(() => m.map(b)).toThrow('boom');
      expect(() => m.map(b)).toThrow('boom');
      expect(calls).toBe(1);
    });

    it('tells where each event ends in the spans and the log records', () => {
      const m = mapping();
      const b = batch(
        processFork({ ...proc, at: proc.procStartNs + 1, childPid: 201, childStartNs: proc.procStartNs + 1 }),
        tcpConnect({ ...proc, at: proc.procStartNs + 2, remoteAddr: '10.0.0.9', remotePort: 80 }),
        processExit({ ...proc, at: proc.procStartNs + 3 }),
      );
      const r = m.map(b);
      expect([...r.spanEnds]).toEqual([0, 1, 2]);
      expect([...r.logEnds]).toEqual([1, 2, 3]);
    });

    it('makes only the signals it was asked for', () => {
      const r = mapping({ spans: false, logs: true }).map(life()[0]!);
      expect(r.spans).toHaveLength(0);
      expect(r.logs).toHaveLength(2);
    });
  });
});

describe('createOtlpRecordEncoder', () => {
  it('cuts one shared mapping into records of perRecord events, the same spans the other consumer got', () => {
    const m = mapping();
    const encode = createOtlpRecordEncoder({ mapping: m, spansTopic: 'otlp_spans', logsTopic: 'otlp_logs' });
    const events = [...life().flatMap((b) => b.events)];
    const all = batch(...events);
    // The OTLP sink maps first (the pipeline's order); the Kafka encoder reuses its result.
    const seen = m.map(all);
    const values = encode(all, 3, 1_000_000);
    const spans = values
      .filter((v) => v.topic === 'otlp_spans')
      .flatMap((v) => flattenRequest(decodeTraceRequest(v.value)));
    expect(spans.map((s) => s.spanId).sort()).toEqual(seen.spans.map((s) => hex(s.spanId)).sort());
    const logs = values
      .filter((v) => v.topic === 'otlp_logs')
      .flatMap((v) => flattenLogsRequest(decodeLogsRequest(v.value)));
    expect(logs).toHaveLength(events.length);
    // Every event is accounted for once, by the first record of its run.
    expect(values.reduce((n, v) => n + v.events, 0)).toBe(events.length);
  });

  it('refuses a mapping that does not make the signals its encodings need', () => {
    expect(() =>
      createOtlpRecordEncoder({
        mapping: mapping({ spans: false, logs: true }),
        spansTopic: 'otlp_spans',
        logsTopic: null,
      }),
    ).toThrow('does not make the signals');
  });
});

describe('sharedBatchMapping', () => {
  const sinks = (otlp: Record<string, unknown>, kafka: Record<string, unknown>) =>
    validateConfig({ sinks: { otlp, kafka: { brokers: ['127.0.0.1:9092'], ...kafka } } }).sinks;
  const deps = { nodeName: 'n', hostName: 'h', env: {}, logger: silentLogger(), instanceId: 'i', redact: [] };

  it('is null unless the OTLP sink and a Kafka OTLP encoding are both on', () => {
    let s = sinks({ enabled: true }, { enabled: true, encodings: ['json'] });
    expect(sharedBatchMapping(s.otlp, s.kafka, deps)).toBeNull();
    s = sinks({ enabled: false }, { enabled: true, encodings: ['otlp_proto'] });
    expect(sharedBatchMapping(s.otlp, s.kafka, deps)).toBeNull();
    s = sinks({ enabled: true }, { enabled: false, encodings: ['otlp_proto'] });
    expect(sharedBatchMapping(s.otlp, s.kafka, deps)).toBeNull();
  });

  it('makes every signal either sink exports', () => {
    const s = sinks(
      { enabled: true, signals: ['traces'] },
      { enabled: true, encodings: ['json', 'otlp_logs'] },
    );
    expect(sharedBatchMapping(s.otlp, s.kafka, { ...deps, bootId: TEST_BOOT_ID })?.wants).toEqual({
      spans: true,
      logs: true,
    });
  });
});
