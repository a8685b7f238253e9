import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load-config';
import {
  DEFAULT_OTLP_BATCH_MAX_DELAY_MS,
  DEFAULT_OTLP_BATCH_MAX_SPANS,
  DEFAULT_OTLP_COMPRESSION,
} from '../../../src/sinks/otlp/otlp-config';

const fixture = (name: string): string => join(__dirname, '../../fixtures/bad-config', `${name}.yaml`);

describe('otlpSinkSchema', () => {
  it('fills the defaults and leaves the endpoint to the environment', () => {
    const otlp = loadConfig(undefined, {}).sinks.otlp;
    expect(otlp).toMatchObject({
      enabled: false,
      compression: DEFAULT_OTLP_COMPRESSION,
      batch: { maxSpans: DEFAULT_OTLP_BATCH_MAX_SPANS, maxDelayMs: DEFAULT_OTLP_BATCH_MAX_DELAY_MS },
      traces: { maxTraceSeconds: 60 },
      headers: {},
      tls: {},
    });
    expect(otlp.endpoint).toBeUndefined();
    expect(otlp.insecure).toBeUndefined();
  });

  it.each([
    ['otlp-endpoint', /sinks\.otlp\.endpoint: "collector 4317" must match pattern/],
    ['otlp-compression', /sinks\.otlp\.compression: "brotli" is not one of "gzip", "none"/],
    ['otlp-batch-max-spans', /sinks\.otlp\.batch\.maxSpans: 0 must be >= 1/],
    ['otlp-tls-cert-without-key', /^sinks\.otlp\.tls: sets cert but not key \(set both or neither\)$/],
    ['otlp-retry-unknown-key', /sinks\.otlp\.retry\.initialBackoff: unknown key/],
    ['otlp-header-value', /sinks\.otlp\.headers\.x-tenant: \*\*\* must be string/],
    ['otlp-max-trace-seconds', /sinks\.otlp\.traces\.maxTraceSeconds: 0 must be > 0/],
  ])('rejects %s naming the key and the value', (name, message) => {
    expect(() => loadConfig(fixture(name), {})).toThrow(message);
  });
});
