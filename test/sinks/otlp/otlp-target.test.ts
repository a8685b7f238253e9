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

  describe('with protocol http/protobuf', () => {
    it('takes only OTEL_EXPORTER_OTLP_ENDPOINT + OTEL_EXPORTER_OTLP_PROTOCOL and appends /v1/traces and /v1/logs', () => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.observability:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      };
      expect(resolveOtlpTarget(otlpConfig({}), env, 'traces')).toMatchObject({
        protocol: 'http/protobuf',
        protocolSource: 'OTEL_EXPORTER_OTLP_PROTOCOL',
        url: 'http://collector.observability:4318/v1/traces',
        address: 'collector.observability:4318',
        secure: false,
        source: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      });
      expect(resolveOtlpTarget(otlpConfig({}), env, 'logs').url).toBe(
        'http://collector.observability:4318/v1/logs',
      );
    });

    it('uses a per-signal endpoint as given and keeps a base path prefix', () => {
      const env = {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example.com/ingest/otlp',
      };
      expect(resolveOtlpTarget(otlpConfig({}), env, 'traces')).toMatchObject({
        url: 'https://otlp.example.com:443/otlp/v1/traces',
        secure: true,
      });
      expect(resolveOtlpTarget(otlpConfig({}), env, 'logs')).toMatchObject({
        url: 'https://logs.example.com:443/ingest/otlp',
        source: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
      });
    });

    it('defaults to http://localhost:4318, and the config file wins over the environment', () => {
      expect(resolveOtlpTarget(otlpConfig({ protocol: 'http/protobuf' }), {}).url).toBe(
        'http://localhost:4318/v1/traces',
      );
      const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' };
      expect(resolveOtlpTarget(otlpConfig({}), env, 'traces').protocol).toBe('grpc');
      expect(resolveOtlpTarget(otlpConfig({}), env, 'logs').protocol).toBe('http/protobuf');
      expect(
        resolveOtlpTarget(otlpConfig({ protocol: 'grpc', endpoint: 'http://cfg:4317' }), env, 'logs'),
      ).toMatchObject({ protocol: 'grpc', address: 'cfg:4317', url: null });
    });

    it('reads per-signal headers and insecure', () => {
      const env = {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=all',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'api-key=logs',
        OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'true',
      };
      expect(resolveOtlpTarget(otlpConfig({}), env, 'traces')).toMatchObject({
        url: 'https://collector:4318/v1/traces',
        headers: { 'api-key': 'all' },
      });
      expect(resolveOtlpTarget(otlpConfig({}), env, 'logs')).toMatchObject({
        url: 'http://collector:4318/v1/logs',
        headers: { 'api-key': 'logs' },
      });
    });

    it('rejects http/json, an unknown protocol and a gRPC endpoint with a path, naming where it came from', () => {
      expect(() => resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toThrow(
        new ConfigError(
          'OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" is not an OTLP protocol podtrace speaks (grpc or http/protobuf) (http/json is not supported: use http/protobuf)',
        ),
      );
      expect(() =>
        resolveOtlpTarget(otlpConfig({}), { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }),
      ).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "thrift" is not an OTLP protocol/);
      expect(() => resolveOtlpTarget(otlpConfig({ endpoint: 'http://collector:4317/v1' }), {})).toThrow(
        /sinks.otlp.endpoint: "http:\/\/collector:4317\/v1" is not an OTLP gRPC endpoint .*gRPC takes no path/,
      );
    });
  });
});
