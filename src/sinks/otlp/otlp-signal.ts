/** The OTLP signals podtrace exports: spans (`traces`) and events as log records (`logs`). */
export type OtlpSignal = 'traces' | 'logs';
export const OTLP_SIGNALS: readonly OtlpSignal[] = ['traces', 'logs'];

/** `grpc`: OTLP/gRPC (port 4317). `http/protobuf`: OTLP/HTTP with protobuf bodies (port 4318). */
export type OtlpProtocol = 'grpc' | 'http/protobuf';
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf'];

/** The OpenTelemetry environment variable infix of a signal (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
export const SIGNAL_ENV: Readonly<Record<OtlpSignal, string>> = { traces: 'TRACES', logs: 'LOGS' };

/** The path OTLP/HTTP appends to a base endpoint for each signal. */
export const OTLP_HTTP_PATHS: Readonly<Record<OtlpSignal, string>> = {
  traces: '/v1/traces',
  logs: '/v1/logs',
};

/** The gRPC method of each signal's Export call. */
export const OTLP_GRPC_METHODS: Readonly<Record<OtlpSignal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
