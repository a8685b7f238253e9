import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PermanentError, RetryableError } from '../../core/errors';

/** The runtime.v1 messages as proto-loader decodes them (camelCase, enums as names, int64 as strings). */
export interface CriPodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}
export interface CriPodSandbox {
  id: string;
  metadata: CriPodSandboxMetadata | null;
  state: string;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}
export interface CriPodSandboxStatus extends CriPodSandbox {
  network: { ip: string } | null;
}
export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  imageRef: string;
  state: string;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface CriContainerStatus extends Omit<CriContainer, 'podSandboxId'> {
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  reason: string;
}
export interface CriVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}
export interface CriContainerEvent {
  containerId: string;
  containerEventType: string;
  createdAt: string;
}

/** Finds api.proto next to this file (src/ when run by ts-jest) or in the source tree (from dist/). */
function protoPath(): string {
  const candidates = [
    join(__dirname, 'proto', 'api.proto'),
    join(__dirname, '..', '..', '..', '..', 'src', 'enrich', 'cri', 'proto', 'api.proto'),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new PermanentError(`CRI proto not found (looked in ${candidates.join(', ')})`);
}

type ServiceCtor = grpc.ServiceClientConstructor;
let runtimeServiceCtor: ServiceCtor | undefined;

function runtimeService(): ServiceCtor {
  if (runtimeServiceCtor === undefined) {
    const def = protoLoader.loadSync(protoPath(), {
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: ServiceCtor } };
    };
    runtimeServiceCtor = pkg.runtime.v1.RuntimeService;
  }
  return runtimeServiceCtor;
}

/** `unix:///run/x.sock` or `/run/x.sock` → grpc target; the socket path for existence checks. */
export function criTarget(endpoint: string): { target: string; socketPath: string } {
  const socketPath = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint;
  return { target: `unix://${socketPath}`, socketPath };
}

/** gRPC codes worth retrying (after the OpenTelemetry Collector's classification). */
const RETRIABLE_CODES = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.CANCELLED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.DATA_LOSS,
]);

export function isNotFound(err: unknown): boolean {
  const code = (err as { cause?: { code?: number } }).cause?.code;
  return code === grpc.status.NOT_FOUND;
}

export function grpcCodeName(err: unknown): string {
  const code = (err as { cause?: { code?: number } }).cause?.code ?? (err as { code?: number }).code;
  return code === undefined ? 'error' : (grpc.status[code] ?? String(code)).toLowerCase();
}

/**
 * A promise-based client for the CRI RuntimeService over one long-lived gRPC channel (grpc-js
 * reconnects the channel by itself; callers retry with backoff). Every unary call has a deadline.
 * Errors come back as RetryableError (unavailable, deadline) or PermanentError (not found,
 * unimplemented, ...), with the grpc error as `cause`.
 */
export class CriClient {
  readonly endpoint: string;
  private readonly client: grpc.Client;
  /** Unary calls made, by method: tests and benchmarks count them. */
  readonly calls = new Map<string, number>();

  constructor(
    endpoint: string,
    private readonly timeoutMs: number,
  ) {
    this.endpoint = endpoint;
    const Ctor = runtimeService();
    this.client = new Ctor(criTarget(endpoint).target, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 10000,
    });
  }

  /** Calls any RuntimeService method (camelCase or proto name) with a deadline. */
  call<Res>(method: string, request: object, timeoutMs = this.timeoutMs): Promise<Res> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const fn = (this.client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function')
      return Promise.reject(new PermanentError(`CRI method ${method} is not defined`));
    return new Promise<Res>((resolve, reject) => {
      (
        fn as (
          req: object,
          opts: grpc.CallOptions,
          cb: (err: grpc.ServiceError | null, res: Res) => void,
        ) => void
      ).call(this.client, request, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err === null) resolve(res);
        else if (RETRIABLE_CODES.has(err.code))
          reject(
            new RetryableError(`CRI ${method} on ${this.endpoint}: ${err.details || err.message}`, {
              cause: err,
            }),
          );
        else
          reject(new PermanentError(`CRI ${method} on ${this.endpoint}: ${err.details || err.message}`, err));
      });
    });
  }

  callCount(method?: string): number {
    if (method !== undefined) return this.calls.get(method) ?? 0;
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  version(): Promise<CriVersion> {
    return this.call<CriVersion>('Version', { version: 'v1' });
  }

  async listContainers(): Promise<CriContainer[]> {
    return (await this.call<{ containers: CriContainer[] }>('ListContainers', {})).containers;
  }

  async listPodSandbox(): Promise<CriPodSandbox[]> {
    return (await this.call<{ items: CriPodSandbox[] }>('ListPodSandbox', {})).items;
  }

  async containerStatus(id: string): Promise<CriContainerStatus> {
    const res = await this.call<{ status: CriContainerStatus | null }>('ContainerStatus', {
      containerId: id,
    });
    if (res.status === null) throw new PermanentError(`CRI ContainerStatus ${id}: empty status`);
    return res.status;
  }

  async podSandboxStatus(id: string): Promise<CriPodSandboxStatus> {
    const res = await this.call<{ status: CriPodSandboxStatus | null }>('PodSandboxStatus', {
      podSandboxId: id,
    });
    if (res.status === null) throw new PermanentError(`CRI PodSandboxStatus ${id}: empty status`);
    return res.status;
  }

  /**
   * Follows GetContainerEvents. `onEnd` gets the error that ended the stream (UNIMPLEMENTED on
   * runtimes without it, e.g. containerd < 1.7) or null. Returns a cancel function.
   */
  containerEvents(
    onEvent: (e: CriContainerEvent) => void,
    onEnd: (err: grpc.ServiceError | null) => void,
  ): () => void {
    this.calls.set('GetContainerEvents', (this.calls.get('GetContainerEvents') ?? 0) + 1);
    const fn = (
      this.client as unknown as Record<string, (req: object) => grpc.ClientReadableStream<CriContainerEvent>>
    ).GetContainerEvents as (req: object) => grpc.ClientReadableStream<CriContainerEvent>;
    const stream = fn.call(this.client, {});
    let ended = false;
    const end = (err: grpc.ServiceError | null): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    stream.on('data', onEvent);
    stream.on('error', (err: grpc.ServiceError) => end(err.code === grpc.status.CANCELLED ? null : err));
    stream.on('end', () => end(null));
    return () => {
      ended = true;
      stream.cancel();
    };
  }

  close(): void {
    this.client.close();
  }
}
