import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { PermanentError, RetryableError, retryDelayOf } from '../../../src/core/errors';
import { classifyGrpcError, grpcStatusOf, serverRetryDelayMs } from '../../../src/sinks/otlp/grpc-retry';
import { ProtobufWriter, WIRE_LEN, WIRE_VARINT } from '../../../src/sinks/spans/protobuf-writer';

function retryInfoStatus(
  seconds: number,
  nanos: number,
  typeUrl = 'type.googleapis.com/google.rpc.RetryInfo',
): Buffer {
  const duration = new ProtobufWriter(16);
  duration.tag(1, WIRE_VARINT);
  duration.int64(seconds);
  duration.tag(2, WIRE_VARINT);
  duration.uint32(nanos);
  const info = new ProtobufWriter(16);
  info.tag(1, WIRE_LEN);
  info.bytes(duration.finish());
  const any = new ProtobufWriter(64);
  any.tag(1, WIRE_LEN);
  any.string(typeUrl);
  any.tag(2, WIRE_LEN);
  any.bytes(info.finish());
  const st = new ProtobufWriter(64);
  st.tag(1, WIRE_VARINT);
  st.uint32(status.RESOURCE_EXHAUSTED);
  st.tag(3, WIRE_LEN);
  st.bytes(any.finish());
  return st.finish();
}

function serviceError(code: status, details?: Buffer): ServiceError {
  const metadata = new Metadata();
  if (details) metadata.set('grpc-status-details-bin', details);
  return Object.assign(new Error(`${code}`), { code, details: 'x', metadata });
}

describe('classifyGrpcError', () => {
  it.each([
    status.UNAVAILABLE,
    status.DEADLINE_EXCEEDED,
    status.ABORTED,
    status.CANCELLED,
    status.OUT_OF_RANGE,
    status.DATA_LOSS,
  ])('retries status %s', (code) => {
    expect(classifyGrpcError(serviceError(code))).toBeInstanceOf(RetryableError);
  });

  it.each([
    status.INVALID_ARGUMENT,
    status.PERMISSION_DENIED,
    status.UNAUTHENTICATED,
    status.UNIMPLEMENTED,
    status.INTERNAL,
    status.RESOURCE_EXHAUSTED,
  ])('treats status %s without RetryInfo as permanent', (code) => {
    const err = classifyGrpcError(serviceError(code));
    expect(err).toBeInstanceOf(PermanentError);
    expect(grpcStatusOf(err)).toBe(status[code]);
  });

  it('retries RESOURCE_EXHAUSTED after the delay the server sent in RetryInfo', () => {
    const err = classifyGrpcError(serviceError(status.RESOURCE_EXHAUSTED, retryInfoStatus(2, 500_000_000)));
    expect(err).toBeInstanceOf(RetryableError);
    expect(retryDelayOf(err)).toBe(2500);
  });
});

describe('serverRetryDelayMs', () => {
  it('ignores details of other types and malformed details', () => {
    const other = new Metadata();
    other.set(
      'grpc-status-details-bin',
      retryInfoStatus(1, 0, 'type.googleapis.com/google.rpc.QuotaFailure'),
    );
    expect(serverRetryDelayMs(other)).toBeUndefined();
    const broken = new Metadata();
    broken.set('grpc-status-details-bin', Buffer.from([0x1a, 0x7f, 0x01]));
    expect(serverRetryDelayMs(broken)).toBeUndefined();
  });
});
