import type { Logger } from '../../core/logger';
import type { ExportTransport, SendFailure, SendResult } from '../exporter/send-outcome';
import type { ExportOutcome } from './otlp-grpc-client';
import type { OtlpSignal } from './otlp-signal';

/** What sends one encoded Export*ServiceRequest: the gRPC or the OTLP/HTTP client. */
export interface OtlpExportClient {
  export(body: Buffer, timeoutMs: number): Promise<ExportOutcome>;
  close(): void;
}

export interface OtlpTransportOptions<T> {
  signal: OtlpSignal;
  client: OtlpExportClient;
  /** Items (spans or log records) → ExportTraceServiceRequest / ExportLogsServiceRequest bytes. */
  encode: (items: readonly T[]) => Buffer;
  /** The protocol's classification (grpcSendFailure, httpSendFailure). */
  classify: (err: unknown) => SendFailure;
  logger: Logger;
}

/**
 * One OTLP signal over one protocol as an exporter transport (STYLE.md: encode / send /
 * classify): items → request bytes → the client's Export → the protocol's classification. The
 * partial-success detail is logged and its rejected count handed to the core, which counts it.
 */
export class OtlpTransport<T> implements ExportTransport<T, Buffer> {
  constructor(private readonly opts: OtlpTransportOptions<T>) {}

  encode(items: readonly T[]): Buffer {
    return this.opts.encode(items);
  }

  byteLength(body: Buffer): number {
    return body.byteLength;
  }

  async send(body: Buffer, items: readonly T[], _key: string, timeoutMs: number): Promise<SendResult<T>> {
    const outcome = await this.opts.client.export(body, timeoutMs);
    if (outcome.rejectedSpans > 0 || outcome.errorMessage !== '')
      this.opts.logger.warn(
        {
          [this.opts.signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords']: outcome.rejectedSpans,
          message: outcome.errorMessage,
          [this.opts.signal === 'traces' ? 'spans' : 'logRecords']: items.length,
        },
        'OTLP receiver reported partial success',
      );
    return { rejected: outcome.rejectedSpans };
  }

  classify(err: unknown): SendFailure {
    return this.opts.classify(err);
  }
}
