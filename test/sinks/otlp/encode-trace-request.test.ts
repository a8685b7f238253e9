/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs hands out untyped decoded objects */
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import {
  encodeEncodedItemsRequest,
  encodeExportTraceServiceRequest,
  toEncodedSpan,
} from '../../../src/sinks/spans/encode-trace-request';
import { PODTRACE_SCOPE } from '../../../src/sinks/spans/instrumentation-scope';
import type { ResourceSpans, SpanData, SpanResource } from '../../../src/sinks/spans/span-model';
import { SpanKind, StatusCode } from '../../../src/sinks/spans/span-model';
import { ProtobufWriter } from '../../../src/sinks/spans/protobuf-writer';
import { attributeMap } from '../../helpers/otlp-receiver';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(__dirname, '../../helpers/proto', target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

function decode(buf: Uint8Array): any {
  return Request.toObject(Request.decode(buf), {
    longs: String,
    bytes: Buffer,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

const id = (hex: string): Uint8Array => Buffer.from(hex, 'hex');

function span(resource: SpanResource, over: Partial<SpanData> = {}): SpanData {
  return {
    resource,
    traceId: id('0102030405060708090a0b0c0d0e0f10'),
    spanId: id('1112131415161718'),
    parentSpanId: null,
    name: 'tcp.connect',
    kind: SpanKind.Client,
    endTimeUnixNs: 1_735_689_600_123_456_768,
    durationNs: 250_000,
    attributes: { 'process.pid': 42 },
    events: null,
    links: null,
    statusCode: StatusCode.Unset,
    statusMessage: null,
    ...over,
  };
}

describe('encodeExportTraceServiceRequest', () => {
  it('encodes resources, scope, spans, attributes of every type, events, links and status by the official field numbers', () => {
    const resource: SpanResource = {
      key: 'r1',
      attributes: { 'service.name': 'checkout', 'k8s.pod.name': 'checkout-1' },
    };
    const longString = 'ü'.repeat(5000); // multi-byte, longer than a 1-byte length
    const rs: ResourceSpans[] = [
      {
        resource,
        scope: PODTRACE_SCOPE,
        spans: [
          span(resource, {
            parentSpanId: id('2122232425262728'),
            attributes: {
              str: 'v',
              long: longString,
              int: 8080,
              neg: -3,
              big: 2 ** 40 + 7,
              dbl: 1.5,
              yes: true,
              no: false,
              args: ['psql', '--password', '[REDACTED]'],
            },
            events: [
              {
                name: 'process.exec',
                timeUnixNs: 1_735_689_600_000_000_000,
                attributes: { 'process.executable.path': '/bin/sh' },
              },
            ],
            links: [
              {
                traceId: id('a1a2a3a4a5a6a7a8a9aaabacadaeafb0'),
                spanId: id('b1b2b3b4b5b6b7b8'),
                attributes: null,
              },
            ],
            statusCode: StatusCode.Error,
            statusMessage: 'ECONNREFUSED',
          }),
          span(resource, {
            spanId: id('3132333435363738'),
            kind: SpanKind.Server,
            name: 'tcp.accept',
            durationNs: 0,
          }),
        ],
      },
      {
        resource: { key: 'r2', attributes: { 'service.name': 'kubelet' } },
        scope: PODTRACE_SCOPE,
        spans: [span(resource)],
      },
    ];
    const out = decode(encodeExportTraceServiceRequest(rs));
    expect(out.resourceSpans).toHaveLength(2);
    const first = out.resourceSpans[0];
    expect(attributeMap(first.resource.attributes)).toEqual({
      'service.name': 'checkout',
      'k8s.pod.name': 'checkout-1',
    });
    expect(first.scopeSpans[0].scope).toMatchObject({ name: 'podtrace', version: PODTRACE_SCOPE.version });
    const [s1, s2] = first.scopeSpans[0].spans;
    expect(s1.traceId.toString('hex')).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(s1.spanId.toString('hex')).toBe('1112131415161718');
    expect(s1.parentSpanId.toString('hex')).toBe('2122232425262728');
    expect(s1.name).toBe('tcp.connect');
    expect(s1.kind).toBe('SPAN_KIND_CLIENT');
    expect(s1.endTimeUnixNano).toBe('1735689600123456768');
    expect(BigInt(s1.endTimeUnixNano) - BigInt(s1.startTimeUnixNano)).toBe(250_000n);
    expect(attributeMap(s1.attributes)).toEqual({
      str: 'v',
      long: longString,
      int: 8080,
      neg: -3,
      big: 2 ** 40 + 7,
      dbl: 1.5,
      yes: true,
      no: false,
      args: ['psql', '--password', '[REDACTED]'],
    });
    expect(s1.events[0]).toMatchObject({ name: 'process.exec', timeUnixNano: '1735689600000000000' });
    expect(attributeMap(s1.events[0].attributes)).toEqual({ 'process.executable.path': '/bin/sh' });
    expect(s1.links[0].traceId.toString('hex')).toBe('a1a2a3a4a5a6a7a8a9aaabacadaeafb0');
    expect(s1.links[0].spanId.toString('hex')).toBe('b1b2b3b4b5b6b7b8');
    expect(s1.status).toMatchObject({ code: 'STATUS_CODE_ERROR', message: 'ECONNREFUSED' });
    expect(s2.parentSpanId).toHaveLength(0);
    expect(s2.kind).toBe('SPAN_KIND_SERVER');
    expect(s2.startTimeUnixNano).toBe(s2.endTimeUnixNano);
    expect(s2.status).toBeNull();
    expect(attributeMap(out.resourceSpans[1].resource.attributes)).toEqual({ 'service.name': 'kubelet' });
  });

  it('encodes requests far larger than its initial buffer (nested lengths above 2^14 and 2^21)', () => {
    const resource: SpanResource = { key: 'big', attributes: { 'service.name': 'x' } };
    const spans = Array.from({ length: 25_000 }, (_, i) =>
      span(resource, { attributes: { i, path: `/var/lib/${i}` } }),
    );
    const buf = encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans }]);
    expect(buf.length).toBeGreaterThan(2 ** 21);
    const out = decode(buf);
    const decoded = out.resourceSpans[0].scopeSpans[0].spans;
    expect(decoded).toHaveLength(25_000);
    expect(attributeMap(decoded[24_999].attributes)).toEqual({ i: 24_999, path: '/var/lib/24999' });
  });

  it('returns an empty request for no spans', () => {
    expect(encodeExportTraceServiceRequest([])).toHaveLength(0);
  });

  describe('keepSpanBytes', () => {
    const resource: SpanResource = { key: 'kept', attributes: { 'service.name': 'x' } };
    const many = (): SpanData[] =>
      Array.from({ length: 3000 }, (_, i) =>
        span(resource, {
          spanId: id((0x1000_0000_0000_0000n + BigInt(i)).toString(16)),
          attributes: { i, path: `/var/lib/${'é'.repeat(i % 7)}${i}`, big: 'z'.repeat(i % 400) },
          ...(i % 5 === 0 ? { statusCode: StatusCode.Error, statusMessage: `exit code ${i}` } : {}),
        }),
      );

    it('keeps no bytes on spans unless asked to', () => {
      const spans = many();
      encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans }]);
      expect(spans.every((s) => s.encoded === undefined)).toBe(true);
    });

    it('gives a later request carrying the same spans the bytes a fresh encoding gives, in any grouping', () => {
      const kept = many();
      const first = encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans: kept }], {
        keepSpanBytes: true,
      });
      expect(kept.every((s) => s.encoded !== undefined)).toBe(true);
      // The same spans cut differently (as the OTLP sink batches them), against spans never kept.
      const fresh = many();
      for (const [from, to] of [
        [0, 3000],
        [17, 1200],
        [2999, 3000],
      ] as const) {
        const again = encodeExportTraceServiceRequest([
          { resource, scope: PODTRACE_SCOPE, spans: kept.slice(from, to) },
        ]);
        const reference = encodeExportTraceServiceRequest([
          { resource, scope: PODTRACE_SCOPE, spans: fresh.slice(from, to) },
        ]);
        expect(Buffer.compare(again, reference)).toBe(0);
      }
      expect(
        Buffer.compare(
          first,
          encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans: fresh }]),
        ),
      ).toBe(0);
      // Each kept copy is exactly that span's message, readable on its own.
      const Span = root.lookupType('opentelemetry.proto.trace.v1.Span');
      const one = Span.toObject(Span.decode(kept[1234]!.encoded!), {
        longs: String,
        defaults: true,
        oneofs: true,
      }) as any;
      expect(attributeMap(one.attributes)).toMatchObject({ i: 1234 });
    });

    it('keeps a span larger than a slab intact while later spans are encoded (its own copy, not a view of the writer)', () => {
      const big = span(resource, { attributes: { i: 0, argv: 'a'.repeat(100_000) } });
      const queued = [toEncodedSpan(big)];
      // Later spans reuse the encoder's buffers; the big span's bytes must not move with them.
      for (const s of many()) queued.push(toEncodedSpan(s));
      const out = decode(encodeEncodedItemsRequest(queued)).resourceSpans[0].scopeSpans[0].spans;
      expect(out).toHaveLength(3001);
      expect(attributeMap(out[0].attributes)).toEqual({ i: 0, argv: 'a'.repeat(100_000) });
      expect(attributeMap(out[3000].attributes)).toMatchObject({ i: 2999 });
    });

    it("copies a span's kept bytes instead of encoding the span again", () => {
      const [a, b] = many();
      encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans: [b!] }], {
        keepSpanBytes: true,
      });
      a!.encoded = b!.encoded;
      const out = decode(encodeExportTraceServiceRequest([{ resource, scope: PODTRACE_SCOPE, spans: [a!] }]));
      expect(attributeMap(out.resourceSpans[0].scopeSpans[0].spans[0].attributes)).toMatchObject({ i: 1 });
    });
  });
});

describe('ProtobufWriter', () => {
  describe('.fixed64Difference', () => {
    it('subtracts exactly across the 32-bit word boundary and clamps at zero', () => {
      const w = new ProtobufWriter(16);
      w.fixed64Difference(2 ** 32, 1);
      w.fixed64Difference(5, 9);
      const b = w.finish();
      expect(b.readBigUInt64LE(0)).toBe(2n ** 32n - 1n);
      expect(b.readBigUInt64LE(8)).toBe(0n);
    });
  });

  describe('.int64', () => {
    it('writes negative values as 10-byte two’s complement varints', () => {
      const w = new ProtobufWriter(4);
      w.int64(-1);
      expect(w.finish().toString('hex')).toBe('ffffffffffffffffff01');
    });
  });
});
