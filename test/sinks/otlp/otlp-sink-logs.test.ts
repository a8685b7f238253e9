import { status } from '@grpc/grpc-js';
import { createOtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import type { OtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { Metrics } from '../../../src/telemetry/metrics';
import { batch, oomKill, processExit, workloadMeta } from '../../helpers/events';
import { OtlpReceiver } from '../../helpers/otlp-receiver';
import { counterValue, eventually, otlpConfig, otlpSinkDeps } from './otlp-test-support';

const SEC = 1_000_000_000;
const open: OtlpSink[] = [];
const receivers: OtlpReceiver[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.shutdown()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

function sinkFor(
  section: Record<string, unknown>,
  shutdownTimeoutMs = 10_000,
): { sink: OtlpSink; metrics: Metrics } {
  const metrics = new Metrics();
  const sink = createOtlpSink(
    otlpConfig({
      batch: { maxDelayMs: 20 },
      retry: { initialBackoffMs: 10, maxBackoffMs: 40, maxElapsedMs: 5000 },
      ...section,
    }),
    otlpSinkDeps(metrics, { shutdownTimeoutMs }),
  );
  open.push(sink);
  return { sink, metrics };
}

describe('OtlpSink with signals [logs] over gRPC', () => {
  it('counts the log records a Collector that went away never got', async () => {
    const r = new OtlpReceiver();
    await r.start(0);
    const address = r.address;
    await r.stop();
    const { sink, metrics } = sinkFor({ endpoint: `http://${address}`, signals: ['logs'] }, 300);
    await sink.start();
    const meta = workloadMeta();
    sink.consume(
      batch(oomKill({ pid: 10, procStartNs: SEC, at: 2 * SEC, meta, victimPid: 11, victimComm: 'java' })),
    );
    await sink.shutdown();
    expect(await metrics.droppedCount('otlp_logs', 'shutdown_timeout')).toBe(1);
    expect(await metrics.droppedCount('otlp')).toBe(0);
  });

  it('calls LogsService/Export, retrying UNAVAILABLE, and counts partial success of log records', async () => {
    const r = new OtlpReceiver();
    await r.start(0);
    receivers.push(r);
    r.failNext(1, status.UNAVAILABLE);
    r.partialSuccessNext(1, 'one too old');
    const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}`, signals: ['logs'] });
    await sink.start();
    const meta = workloadMeta();
    sink.consume(
      batch(
        oomKill({ pid: 10, procStartNs: SEC, at: 2 * SEC, meta, victimPid: 11, victimComm: 'java' }),
        processExit({
          pid: 11,
          procStartNs: SEC,
          at: 3 * SEC,
          meta,
          comm: 'java',
          signal: 9,
          exitCode: null,
        }),
      ),
    );
    await eventually(() => r.logs.length >= 2);
    expect(r.spans).toHaveLength(0);
    expect(r.logs.map((l) => [l.eventName, l.severityNumber])).toEqual([
      ['podtrace.oom.kill', 'SEVERITY_NUMBER_WARN'],
      ['podtrace.process.exit', 'SEVERITY_NUMBER_WARN'],
    ]);
    expect(r.logs[0]!.attributes['process.pid']).toBe(11);
    expect(r.logs[1]!.attributes['error.type']).toBe('SIGKILL');
    await sink.shutdown();
    expect(await counterValue(metrics.sinkRetried, { sink: 'otlp_logs' })).toBe(1);
    expect(await metrics.droppedCount('otlp_logs', 'rejected_by_server')).toBe(1);
    expect(await counterValue(metrics.sinkExported, { sink: 'otlp_logs' })).toBe(1);
  });
});
