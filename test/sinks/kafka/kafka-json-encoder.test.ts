import { EVENT_NAMES } from '../../../src/events/event-kind';
import { EventKind } from '../../../src/events/event-kind';
import {
  KAFKA_JSON_SCHEMA_VERSION,
  KafkaJsonEncoder,
  jsonInteger,
} from '../../../src/sinks/kafka/kafka-json-encoder';
import { assertValid, kafkaValidatorFor } from '../../helpers/kafka-schemas';
import { ALL_KINDS, HOST_META, NODE_NAME, makeEvent, makeEvents, podMeta } from '../../helpers/kafka-events';

describe('KafkaJsonEncoder', () => {
  describe('.encode', () => {
    it("writes a value that validates against its topic's schema in config/schemas for every kind and workload", () => {
      const enc = new KafkaJsonEncoder(NODE_NAME);
      const events = makeEvents(ALL_KINDS.length * 6 * 2);
      events.forEach((e, i) => {
        assertValid(
          kafkaValidatorFor(EVENT_NAMES[e.kind]),
          JSON.parse(enc.encode(e, i + 1)),
          EVENT_NAMES[e.kind],
        );
      });
    });

    it('holds the event name, integer nanosecond times, seq, schema version, workload and event attributes', () => {
      const meta = podMeta('shop', 'cart-7d9f', 'uid-1');
      const e = makeEvent(3, EventKind.TcpConnect, meta);
      const text = new KafkaJsonEncoder(NODE_NAME).encode(e, 42);
      const v = JSON.parse(text) as Record<string, unknown>;
      expect(v['event.name']).toBe('tcp.connect');
      // The OpenTelemetry event name, as the OTLP log record's EventName.
      expect(v['event_name']).toBe('podtrace.tcp.connect');
      expect(v['event.seq']).toBe(42);
      expect(v['podtrace.schema']).toBe(KAFKA_JSON_SCHEMA_VERSION);
      expect(v['duration_ns']).toBe(250000);
      expect(text).toContain(`"time_unix_nano":${jsonInteger(e.timeUnixNs)},`);
      expect(v['k8s.pod.uid']).toBe('uid-1');
      expect(v['k8s.namespace.name']).toBe('shop');
      expect(v['server.port']).toBe(8080);
      expect(v['process.pid']).toBe(e.pid);
    });

    it('redacts secrets in process.command_args', () => {
      const v = JSON.parse(
        new KafkaJsonEncoder(NODE_NAME).encode(makeEvent(0, EventKind.ProcessExec, HOST_META), 1),
      ) as Record<string, unknown>;
      expect(v['process.command_args']).toEqual(['curl', '--token', '[REDACTED]', 'http://svc/0']);
    });

    it('escapes strings from the kernel (comm with quotes and backslashes)', () => {
      const e = makeEvent(0, EventKind.ProcessFork, null);
      expect(e.comm).toBe('we"ird\\comm');
      const v = JSON.parse(new KafkaJsonEncoder(NODE_NAME).encode(e, 1)) as Record<string, unknown>;
      expect(v['process.executable.name']).toBe('we"ird\\comm');
    });

    it('names the node for events without workload metadata', () => {
      const v = JSON.parse(
        new KafkaJsonEncoder('node-z').encode(makeEvent(1, EventKind.ProcessExit, null), 1),
      ) as Record<string, unknown>;
      expect(v['k8s.node.name']).toBe('node-z');
      expect(v['k8s.pod.uid']).toBeUndefined();
    });

    it('serialises a WorkloadMeta once and reuses the fragment for its later events', () => {
      const meta = podMeta('shop', 'cart-7d9f', 'uid-1');
      const enc = new KafkaJsonEncoder(NODE_NAME);
      const spy = jest.spyOn(JSON, 'stringify');
      enc.encode(makeEvent(0, EventKind.TcpAccept, meta), 1);
      const first = spy.mock.calls.filter(
        ([arg]) => arg !== null && typeof arg === 'object' && 'k8s.pod.uid' in arg,
      ).length;
      enc.encode(makeEvent(1, EventKind.TcpAccept, meta), 2);
      enc.encode(makeEvent(2, EventKind.TcpClose, meta), 3);
      const after = spy.mock.calls.filter(
        ([arg]) => arg !== null && typeof arg === 'object' && 'k8s.pod.uid' in arg,
      ).length;
      spy.mockRestore();
      expect(first).toBe(1);
      expect(after).toBe(1);
    });
  });
});

describe('jsonInteger', () => {
  it('writes large nanosecond doubles as plain digits and rounds fractions', () => {
    expect(jsonInteger(1_763_700_000_123_456_800)).toBe('1763700000123456768');
    expect(jsonInteger(12.5)).toBe('13');
    expect(jsonInteger(Number.NaN)).toBe('0');
  });
});
