import type { Logger } from '../../core/logger';
import type { ExportTransport, SendFailure, SendResult } from '../exporter/send-outcome';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import { groupByResource } from '../spans/resource-spans';
import type { SpanData } from '../spans/span-model';
import type { OtlpGrpcClient } from './otlp-grpc-client';
import { grpcSendFailure } from './grpc-retry';

/** OTLP/gRPC traces as an exporter transport: spans → ExportTraceServiceRequest → TraceService/Export. */
export class OtlpGrpcTraceTransport implements ExportTransport<SpanData, Buffer> {
  constructor(
    private readonly client: OtlpGrpcClient,
    private readonly logger: Logger,
  ) {}

  encode(spans: readonly SpanData[]): Buffer {
    return encodeExportTraceServiceRequest(groupByResource(spans));
  }

  byteLength(body: Buffer): number {
    return body.byteLength;
  }

  async send(
    body: Buffer,
    spans: readonly SpanData[],
    _key: string,
    timeoutMs: number,
  ): Promise<SendResult<SpanData>> {
    const outcome = await this.client.export(body, timeoutMs);
    if (outcome.rejectedSpans > 0 || outcome.errorMessage !== '')
      this.logger.warn(
        { rejectedSpans: outcome.rejectedSpans, message: outcome.errorMessage, spans: spans.length },
        'OTLP receiver reported partial success',
      );
    return { rejected: outcome.rejectedSpans };
  }

  classify(err: unknown): SendFailure {
    return grpcSendFailure(err);
  }
}
