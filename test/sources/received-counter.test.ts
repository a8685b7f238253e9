import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { HEADER } from '../../src/events/layout';
import { ReceivedCounter } from '../../src/sources/received-counter';
import { Metrics } from '../../src/telemetry/metrics';
import { exitRecord } from '../helpers/records';

describe('ReceivedCounter', () => {
  describe('.update', () => {
    it('adds decoded events per kind and malformed records as decode drops', async () => {
      const metrics = new Metrics();
      const decoder = new RecordDecoder(new BootClock(() => 0));
      const counter = new ReceivedCounter(decoder.stats, metrics);
      const good = exitRecord({ pid: 1 }, { exitCode: 0, lifetimeNs: 1 });
      const bad = Buffer.from(good);
      bad.writeUInt16LE(250, HEADER.kind);
      const out: PodtraceEvent[] = [];
      decoder.decode(Buffer.concat([good, bad, good]), out);
      counter.update();
      decoder.decode(bad, out);
      counter.update();
      counter.update();
      const text = await metrics.registry.metrics();
      expect(text).toContain('podtrace_events_received_total{kind="process.exit"} 2');
      expect(text).toContain('podtrace_dropped_total{stage="decode",reason="malformed"} 2');
    });
  });
});
