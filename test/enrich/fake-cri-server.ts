import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface FakeSandbox {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** PodSandboxStatus says network NODE (a hostNetwork pod). */
  hostNetwork?: boolean;
  /** SANDBOX_NOTREADY when false. */
  ready?: boolean;
}

export interface FakeContainer {
  id: string;
  sandboxId: string;
  name: string;
  image: string;
  pod: { name: string; namespace: string; uid: string };
  /** The container's process, reported CRI-O style in verbose ContainerStatus (`info.info` JSON `pid`). */
  pid?: number;
  /** CRI state, CONTAINER_RUNNING when omitted. */
  state?: string;
}

type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
type Callback = grpc.sendUnaryData<unknown>;

/**
 * A CRI runtime double on a unix socket, serving our runtime.v1 proto with grpc-js: containers and
 * sandboxes can be added while it runs, every call is counted by method. Used where the test must
 * control timing (startup race, outage); the real-containerd test covers the real runtime.
 */
export class FakeCriServer {
  private server: grpc.Server | null = null;
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly calls = new Map<string, number>();
  supportsEvents = false;
  /** What Version answers as runtime_name (`cri-o` to look like CRI-O). */
  runtimeName = 'fake-cri';

  constructor(readonly socketPath: string) {}

  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  addPod(s: FakeSandbox, containers: Omit<FakeContainer, 'sandboxId' | 'pod'>[]): void {
    this.sandboxes.set(s.id, s);
    for (const c of containers)
      this.containers.set(c.id, {
        ...c,
        sandboxId: s.id,
        pod: { name: s.name, namespace: s.namespace, uid: s.uid },
      });
  }

  private sandboxMsg(s: FakeSandbox): Record<string, unknown> {
    return {
      id: s.id,
      metadata: { name: s.name, uid: s.uid, namespace: s.namespace, attempt: 0 },
      state: s.ready === false ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY',
      createdAt: '1',
      labels: {
        ...s.labels,
        'io.kubernetes.pod.name': s.name,
        'io.kubernetes.pod.namespace': s.namespace,
        'io.kubernetes.pod.uid': s.uid,
      },
      annotations: s.annotations ?? {},
    };
  }

  private containerLabels(c: FakeContainer): Record<string, string> {
    return {
      'io.kubernetes.container.name': c.name,
      'io.kubernetes.pod.name': c.pod.name,
      'io.kubernetes.pod.namespace': c.pod.namespace,
      'io.kubernetes.pod.uid': c.pod.uid,
    };
  }

  async start(): Promise<void> {
    const def = protoLoader.loadSync(join(__dirname, '../../src/enrich/cri/proto/api.proto'), {
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
    };
    const count = (m: string): void => {
      this.calls.set(m, (this.calls.get(m) ?? 0) + 1);
    };
    const notFound = (cb: Callback, what: string): void =>
      cb({ code: grpc.status.NOT_FOUND, details: `${what} not found` }, null);
    const server = new grpc.Server();
    server.addService(pkg.runtime.v1.RuntimeService.service, {
      Version: (_c: Call, cb: Callback) => {
        count('Version');
        cb(null, {
          version: '0.1.0',
          runtimeName: this.runtimeName,
          runtimeVersion: '1.0.0',
          runtimeApiVersion: 'v1',
        });
      },
      ListPodSandbox: (_c: Call, cb: Callback) => {
        count('ListPodSandbox');
        cb(null, { items: [...this.sandboxes.values()].map((s) => this.sandboxMsg(s)) });
      },
      ListContainers: (_c: Call, cb: Callback) => {
        count('ListContainers');
        cb(null, {
          containers: [...this.containers.values()].map((c) => ({
            id: c.id,
            podSandboxId: c.sandboxId,
            metadata: { name: c.name, attempt: 0 },
            image: { image: c.image },
            state: c.state ?? 'CONTAINER_RUNNING',
            labels: this.containerLabels(c),
          })),
        });
      },
      ContainerStatus: (call: Call, cb: Callback) => {
        count('ContainerStatus');
        const c = this.containers.get(call.request.containerId as string);
        if (c === undefined) return notFound(cb, 'container');
        // CRI-O's verbose info: one "info" key holding JSON with sandboxID, pid, runtimeSpec, privileged.
        const info =
          call.request.verbose === true && c.pid !== undefined
            ? {
                info: JSON.stringify({
                  sandboxID: c.sandboxId,
                  pid: c.pid,
                  privileged: false,
                  runtimeSpec: {},
                }),
              }
            : {};
        cb(null, {
          status: {
            id: c.id,
            metadata: { name: c.name, attempt: 0 },
            image: { image: c.image },
            state: c.state ?? 'CONTAINER_RUNNING',
            labels: this.containerLabels(c),
          },
          info,
        });
      },
      PodSandboxStatus: (call: Call, cb: Callback) => {
        count('PodSandboxStatus');
        const s = this.sandboxes.get(call.request.podSandboxId as string);
        if (s === undefined) return notFound(cb, 'sandbox');
        const network = s.hostNetwork === true ? 'NODE' : 'POD';
        cb(null, {
          status: {
            ...this.sandboxMsg(s),
            linux: { namespaces: { options: { network, pid: 'CONTAINER', ipc: 'POD' } } },
          },
        });
      },
      GetContainerEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        count('GetContainerEvents');
        if (!this.supportsEvents)
          call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not implemented' });
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    this.server = server;
  }

  stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s !== null) s.forceShutdown();
    return Promise.resolve();
  }
}
