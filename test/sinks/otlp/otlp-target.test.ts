import { ConfigError } from '../../../src/core/errors';
import { resolveOtlpTarget } from '../../../src/sinks/otlp/otlp-target';
import { otlpConfig } from './otlp-test-support';

describe('resolveOtlpTarget', () => {
  it('defaults to http://localhost:4317 in plain text', () => {
    expect(resolveOtlpTarget(otlpConfig({}), {})).toMatchObject({
      address: 'localhost:4317',
      secure: false,
      source: 'default',
    });
  });

  it('prefers the config, then OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const env = {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces:4317',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317',
    };
    expect(resolveOtlpTarget(otlpConfig({ endpoint: 'http://cfg:1234' }), env)).toMatchObject({
      address: 'cfg:1234',
      source: 'sinks.otlp.endpoint',
    });
    expect(resolveOtlpTarget(otlpConfig({}), env)).toMatchObject({ address: 'traces:4317', secure: true });
    expect(
      resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic' }),
    ).toMatchObject({ address: 'generic:4317', secure: false });
  });

  it('uses TLS for https:// and scheme-less endpoints unless insecure is set', () => {
    expect(resolveOtlpTarget(otlpConfig({ endpoint: 'collector:4317' }), {}).secure).toBe(true);
    expect(resolveOtlpTarget(otlpConfig({ endpoint: 'collector:4317', insecure: true }), {}).secure).toBe(
      false,
    );
    expect(resolveOtlpTarget(otlpConfig({ endpoint: 'https://[::1]:4317' }), {})).toMatchObject({
      address: '[::1]:4317',
      secure: true,
    });
  });

  it('merges OTEL_EXPORTER_OTLP_HEADERS under the configured headers', () => {
    const t = resolveOtlpTarget(otlpConfig({ headers: { 'X-Tenant': 'cfg' } }), {
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=env, api-key=a%3Db',
    });
    expect(t.headers).toEqual({ 'x-tenant': 'cfg', 'api-key': 'a=b' });
  });

  it('rejects a bad endpoint from the environment naming the variable and value', () => {
    expect(() =>
      resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'not an endpoint' }),
    ).toThrow(
      new ConfigError(
        'OTEL_EXPORTER_OTLP_ENDPOINT: "not an endpoint" is not an OTLP gRPC endpoint (http(s)://host:port or host:port)',
      ),
    );
    expect(() => resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(
      'OTEL_EXPORTER_OTLP_HEADERS: entry 1 (7 characters, not shown) is not key=value',
    );
    // Header text carries credentials: an error never quotes it.
    expect(() =>
      resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,Bearer hunter2' }),
    ).toThrow(/^OTEL_EXPORTER_OTLP_HEADERS: entry 2 \(14 characters, not shown\) is not key=value$/);
    expect(() =>
      resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=hunter2%zz' }),
    ).toThrow(
      /^OTEL_EXPORTER_OTLP_HEADERS: the value of authorization has a malformed percent-encoded value$/,
    );
    expect(() => resolveOtlpTarget(otlpConfig({ endpoint: 'http://h:70000' }), {})).toThrow(
      /sinks.otlp.endpoint: "http:\/\/h:70000" has port 70000/,
    );
  });
});
