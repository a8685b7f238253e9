/** Shared setup of the OTLP sink tests: configs with defaults applied, a log capture, metric reads. */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../../src/core/logger';
import { validateConfig } from '../../../src/config/load-config';
import { silentLogger } from '../../../src/core/logger';
import type { OtlpSinkConfig } from '../../../src/sinks/otlp/otlp-config';
import type { OtlpSinkDeps } from '../../../src/sinks/otlp/otlp-sink';
import type { Metrics } from '../../../src/telemetry/metrics';
import { TEST_BOOT_ID } from '../../helpers/events';

/** A validated `sinks.otlp` section (defaults filled) from a partial one. */
export function otlpConfig(section: Record<string, unknown>): OtlpSinkConfig {
  return validateConfig({ sinks: { otlp: { enabled: true, ...section } } }).sinks.otlp;
}

/** The OTLP sink's dependencies as the tests use them: node-a, no OTEL_* env, a 10 s shutdown deadline. */
export function otlpSinkDeps(metrics: Metrics, over: Partial<OtlpSinkDeps> = {}): OtlpSinkDeps {
  return {
    logger: silentLogger(),
    metrics,
    env: {},
    nodeName: 'node-a',
    hostName: 'node-a.example',
    bootId: TEST_BOOT_ID,
    shutdownTimeoutMs: 10_000,
    ...over,
  };
}

/** A pino logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export async function counterValue(
  metric: Pick<Metrics['sinkFailed'], 'get'> | Pick<Metrics['sinkExported'], 'get'>,
  labels: Record<string, string>,
): Promise<number> {
  const data = await metric.get();
  return data.values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

/** Polls `check` until it holds; rejects after `guardMs` (a hang guard, not a timing assertion). */
export async function eventually(check: () => Promise<boolean> | boolean, guardMs = 20_000): Promise<void> {
  const until = Date.now() + guardMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
