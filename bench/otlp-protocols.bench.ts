/**
 * The OTLP sink over its two protocols and signal sets: events/s from event batches to a loopback
 * receiver in a child process (gRPC: bench/otlp-bench-receiver.ts, OTLP/HTTP:
 * bench/otlp-http-bench-receiver.ts), gzip, the default batch and concurrency settings. CPU is the
 * benchmark process's own user+system time (one core's cost per event).
 *
 * Run: `npx tsc -p . && node dist/bench/otlp-protocols.bench.js [events]`.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { silentLogger } from '../src/core/logger';
import { validateConfig } from '../src/config/load-config';
import type { EventBatch } from '../src/events/event';
import { createOtlpSink } from '../src/sinks/otlp/otlp-sink';
import { Metrics } from '../src/telemetry/metrics';
import { TEST_BOOT_ID, tcpVolumeBatch, workloadMeta } from '../test/helpers/events';

interface Receiver {
  port: number;
  bytes(): Promise<number>;
  stop(): void;
}

async function startReceiver(file: string): Promise<Receiver> {
  const child = fork(join(__dirname, file), [], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
  });
  return {
    port,
    bytes: () =>
      new Promise((resolve) => {
        child.once('message', (m: { bytes: number }) => resolve(m.bytes));
        child.send('bytes');
      }),
    stop: () => child.kill(),
  };
}

function makeBatches(events: number): EventBatch[] {
  const metas = [0, 1, 2, 3].map((i) => workloadMeta({ deployment: `svc-${i}`, namespace: 'bench' }));
  const out: EventBatch[] = [];
  for (let made = 0, i = 0; made < events; i++) {
    const n = Math.min(1024, events - made);
    out.push(tcpVolumeBatch(n, metas[i % metas.length]!, 10_000_000_000_000 + made * 1000));
    made += n;
  }
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export interface ProtocolRow {
  protocol: 'grpc' | 'http/protobuf';
  signals: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  eventsPerCpuSecond: number;
  /**
   * Request bytes the receiver counted per event: after decompression for gRPC (grpc-js inflates
   * before the handler), as sent (gzip) for OTLP/HTTP.
   */
  receiverBytesPerEvent: number;
}

async function run(
  receiver: Receiver,
  protocol: 'grpc' | 'http/protobuf',
  signals: ('traces' | 'logs')[],
  batches: EventBatch[],
  events: number,
): Promise<ProtocolRow> {
  const metrics = new Metrics();
  const config = validateConfig({
    sinks: {
      otlp: {
        enabled: true,
        protocol,
        signals,
        endpoint: `http://127.0.0.1:${receiver.port}`,
        queue: { maxSpans: events + 4096 },
        batch: { maxDelayMs: 5 },
      },
    },
  }).sinks.otlp;
  const sink = createOtlpSink(config, {
    logger: silentLogger(),
    metrics,
    env: {},
    nodeName: 'bench',
    hostName: 'bench',
    bootId: TEST_BOOT_ID,
  });
  const before = await receiver.bytes();
  await sink.start();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (const b of batches) {
    sink.consume(b);
    await tick();
  }
  await sink.shutdown();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const exported = (await metrics.sinkExported.get()).values.reduce((s, v) => s + v.value, 0);
  // tcpVolumeBatch makes one span and one log record per event.
  if (exported !== events * signals.length)
    throw new Error(`${protocol} ${signals.join('+')}: exported ${exported} of ${events * signals.length}`);
  return {
    protocol,
    signals: signals.join('+'),
    events,
    seconds,
    eventsPerSecond: events / seconds,
    eventsPerCpuSecond: events / ((cpu.user + cpu.system) / 1e6),
    receiverBytesPerEvent: ((await receiver.bytes()) - before) / events,
  };
}

export async function benchOtlpProtocols(events = 200_000): Promise<ProtocolRow[]> {
  const grpc = await startReceiver('otlp-bench-receiver.js');
  const http = await startReceiver('otlp-http-bench-receiver.js');
  const rows: ProtocolRow[] = [];
  try {
    const warm = makeBatches(20_000);
    await run(grpc, 'grpc', ['traces'], warm, 20_000);
    await run(http, 'http/protobuf', ['traces'], warm, 20_000);
    rows.push(await run(grpc, 'grpc', ['traces'], makeBatches(events), events));
    rows.push(await run(http, 'http/protobuf', ['traces'], makeBatches(events), events));
    rows.push(await run(http, 'http/protobuf', ['logs'], makeBatches(events), events));
    rows.push(await run(http, 'http/protobuf', ['traces', 'logs'], makeBatches(events), events));
  } finally {
    grpc.stop();
    http.stop();
  }
  return rows;
}

if (require.main === module) {
  benchOtlpProtocols(Number(process.argv[2] ?? 200_000))
    .then((rows) =>
      console.table(
        rows.map((r) => ({
          protocol: r.protocol,
          signals: r.signals,
          events: r.events,
          seconds: r.seconds.toFixed(2),
          'events/s': Math.round(r.eventsPerSecond),
          'events/cpu-s': Math.round(r.eventsPerCpuSecond),
          'receiver bytes/event': r.receiverBytesPerEvent.toFixed(1),
        })),
      ),
    )
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
