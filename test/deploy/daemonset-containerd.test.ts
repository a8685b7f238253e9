import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HOST_MOUNTS } from '../../src/deploy/node-requirements';
import { TestContainerd, containerdMissing } from '../helpers/containerd';
import { renderChart } from '../helpers/helm-render';
import { missingBpf, waitFor } from '../helpers/kernel';
import { criPodConfigs } from '../helpers/kubelet-lite';
import { ClosingListener } from '../helpers/closing-listener';
import { describeIf } from '../helpers/prereq';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- Kubernetes objects parsed from YAML are untyped */

/**
 * The image from scripts/build-image.sh, run under a real containerd as the kubelet runs the
 * chart's rendered DaemonSet: its security context, host namespaces, mounts, env and resources go
 * through test/helpers/kubelet-lite.ts into RunPodSandbox + CreateContainer + StartContainer.
 */

const ROOT = join(__dirname, '..', '..');
const IMAGE_TAR = join(ROOT, 'build', 'podtrace-image.tar');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const WORKLOAD_NS = 'shop';
const CAP_SYS_RESOURCE = 24n;

function imageMissing(): string | null {
  return existsSync(IMAGE_TAR) ? null : `${IMAGE_TAR} not built (scripts/build-image.sh)`;
}

/** The cgroup2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host (chart value cgroupBase). */
const CGROUP_BASE = existsSync('/sys/fs/cgroup/cgroup.controllers')
  ? '/sys/fs/cgroup'
  : '/sys/fs/cgroup/unified';

/** Whether this process may hand CAP_SYS_RESOURCE to a container (runc cannot grant what it lacks). */
function holdsSysResource(): boolean {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << CAP_SYS_RESOURCE)) !== 0n;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A CRI container log (`<time> <stream> <P|F> <text>`) as whole lines. */
function criLogLines(path: string): { stream: string; text: string }[] {
  if (!existsSync(path)) return [];
  const out: { stream: string; text: string }[] = [];
  let partial = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\S+ (stdout|stderr) (P|F) (.*)$/.exec(line);
    if (m === null) continue;
    partial += m[3];
    if (m[2] === 'F') {
      out.push({ stream: m[1] as string, text: partial });
      partial = '';
    }
  }
  return out;
}

function jsonLines(path: string, stream = 'stdout'): any[] {
  return criLogLines(path)
    .filter((l) => l.stream === stream && l.text.startsWith('{'))
    .map((l) => JSON.parse(l.text) as unknown);
}

interface Agent {
  containerId: string;
  sandboxId: string;
  log: string;
  port: number;
}

/**
 * One containerd with the image imported, running the chart's rendered DaemonSet pod through the
 * CRI as the kubelet would, and ordinary pods beside it.
 */
class Node {
  image = '';

  constructor(readonly containerd: TestContainerd) {}

  async start(): Promise<void> {
    await this.containerd.start();
    const names = this.containerd.importImage(IMAGE_TAR);
    this.image = names.find((n) => n.endsWith(`/podtrace:${VERSION}`)) ?? '';
  }

  renderedForTest(): { ds: any; cm: any } {
    return this.rendered(0);
  }

  /** The chart rendered with values a user of this node would set; the pod spec is used as rendered. */
  private rendered(telemetryPort: number): { ds: any; cm: any } {
    const at = this.image.lastIndexOf(':');
    const objects = renderChart({
      image: { repository: this.image.slice(0, at), tag: this.image.slice(at + 1) },
      otlp: { endpoint: '' },
      cgroupBase: CGROUP_BASE,
      config: {
        sinks: { console: { enabled: true, format: 'json' }, otlp: { enabled: false } },
        filter: { includeHost: false, namespaces: [WORKLOAD_NS] },
        telemetry: { listen: `127.0.0.1:${telemetryPort}` },
      },
    });
    return {
      ds: objects.find((o) => o.kind === 'DaemonSet'),
      cm: objects.find((o) => o.kind === 'ConfigMap'),
    };
  }

  /**
   * Starts the DaemonSet's pod. `exactCapabilities: false` (the default) leaves out SYS_RESOURCE
   * where runc cannot grant it (see the CAP_SYS_RESOURCE test); `edit` changes the container on purpose.
   */
  async startAgent(
    name: string,
    opts: { edit?: (c: any) => any; exactCapabilities?: boolean } = {},
  ): Promise<Agent> {
    // Each agent its own telemetry port: they share the host network namespace.
    const port = await freePort();
    const { ds, cm } = this.rendered(port);
    const uid = randomUUID();
    const criDir = HOST_MOUNTS.find((m) => m.volume === 'cri')!.hostPath;
    const configs = criPodConfigs({
      name,
      namespace: ds.metadata.namespace,
      uid,
      nodeName: hostname(),
      spec: ds.spec.template.spec,
      configMaps: { [cm.metadata.name]: cm.data },
      podDir: join(this.containerd.dir, 'pods', uid),
      // This test's containerd is not the node's: its socket directory stands in for /run/containerd.
      hostPathOverrides: { [criDir]: this.containerd.socketDir },
      editContainer: (c: any) => {
        if (opts.exactCapabilities !== true && !holdsSysResource())
          c.securityContext.capabilities.add = c.securityContext.capabilities.add.filter(
            (x: string) => x !== 'SYS_RESOURCE',
          );
        return opts.edit ? opts.edit(c) : c;
      },
    });
    const pod = await this.containerd.runPodConfigs(configs);
    return {
      containerId: pod.containers.get('podtrace')!,
      sandboxId: pod.sandboxId,
      log: join(configs.sandboxConfig.logDirectory, 'podtrace', '0.log'),
      port,
    };
  }

  /** Waits for "podtrace running" in the agent's log; a start failure throws with the whole log. */
  async waitRunning(agent: Agent): Promise<void> {
    await waitFor(
      () => {
        // Logs go to stderr while the console sink owns stdout.
        const running = jsonLines(agent.log, 'stderr').find((l) => l.msg === 'podtrace running');
        if (running !== undefined) return running;
        const lines = criLogLines(agent.log);
        if (lines.some((l) => l.stream === 'stderr' && l.text.startsWith('podtrace:')))
          throw new Error(`agent failed:\n${lines.map((l) => l.text).join('\n')}`);
        return undefined;
      },
      'the agent to log "podtrace running"',
      90_000,
    );
  }

  /** An ordinary pod that connects to `port` in a loop; returns the tcp.connect the agent printed for it. */
  async workloadConnect(agent: Agent, name: string, port: number): Promise<{ uid: string; event: any }> {
    const uid = randomUUID();
    const pod = await this.containerd.runPod({
      name,
      namespace: WORKLOAD_NS,
      uid,
      cgroupParent: `/kubepods/besteffort/pod${uid}`,
      container: {
        name: 'web',
        command: ['/bin/sh', '-c', `while true; do echo hi | nc 127.0.0.1 ${port}; sleep 0.3; done`],
      },
    });
    const event = await waitFor(
      () =>
        jsonLines(agent.log).find(
          (e) =>
            e['event.name'] === 'tcp.connect' &&
            e['container.id'] === pod.containerId &&
            e['server.port'] === port,
        ),
      `a tcp.connect of ${name} on the agent’s stdout`,
      60_000,
    );
    return { uid, event };
  }
}

const missing = missingBpf() ?? containerdMissing() ?? imageMissing();

describeIf(missing)('the DaemonSet under a real containerd', () => {
  // The socket alone in a directory: mounted as the DaemonSet mounts /run/containerd.
  const node = new Node(new TestContainerd({ socketDir: true }));
  const listener = new ClosingListener();

  beforeAll(async () => {
    if (!holdsSysResource())
      process.stderr.write(
        'NOTE: this host lacks CAP_SYS_RESOURCE in its bounding set; the agent pods run without it (kernel >= 5.11 does not need it)\n',
      );
    await listener.start();
    await node.start();
  }, 300_000);

  afterAll(async () => {
    await node.containerd.stop();
    await listener.stop();
  }, 120_000);

  it('imports build/podtrace-image.tar as podtrace:<version>', () => {
    expect(node.image).toBe(`docker.io/library/podtrace:${VERSION}`);
  });

  describe('the agent pod', () => {
    let agent: Agent;

    beforeAll(async () => {
      agent = await node.startAgent('podtrace-node1');
      await node.waitRunning(agent);
    }, 300_000);

    it('attributes a second, ordinary pod’s events to that pod (agent stdout)', async () => {
      const { uid, event } = await node.workloadConnect(agent, 'web-5c8d7-x2v4k', listener.port);
      expect(event).toMatchObject({
        'k8s.namespace.name': WORKLOAD_NS,
        'k8s.pod.name': 'web-5c8d7-x2v4k',
        'k8s.pod.uid': uid,
        'k8s.container.name': 'web',
        'k8s.node.name': hostname(),
      });
      // Only the filtered namespace reaches the sinks: no event of the agent's own pod.
      expect(
        jsonLines(agent.log).filter((e) => e['event.name'] && e['k8s.namespace.name'] !== WORKLOAD_NS),
      ).toEqual([]);
    }, 90_000);

    it('serves /metrics on the configured telemetry port, counting enriched events', async () => {
      const text = await (await fetch(`http://127.0.0.1:${agent.port}/metrics`)).text();
      const m = /^podtrace_enrichment_total\{[^}]*outcome="complete"[^}]*\} (\d+)/m.exec(text);
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(0);
    });

    it('has podtrace on PATH: `podtrace check` in the running container passes the kernel and probe checks', async () => {
      const r = await node.containerd.execSync(
        agent.containerId,
        ['podtrace', 'check', '--config', '/etc/podtrace/podtrace.yaml'],
        60,
      );
      expect(r.stdout).toMatch(/^ok\s+capabilities\s+CAP_BPF=yes CAP_PERFMON=yes CAP_SYS_ADMIN=no$/m);
      for (const group of ['process', 'tcp', 'oom'])
        expect(r.stdout).toMatch(new RegExp(`^ok\\s+probes ${group}\\s`, 'm'));
    }, 90_000);

    it('keeps the root filesystem read-only: only the mounted /tmp is writable', async () => {
      const root = await node.containerd.execSync(agent.containerId, [
        'sh',
        '-c',
        'echo x > /app/write-probe',
      ]);
      expect(root.exitCode).not.toBe(0);
      expect(root.stderr).toMatch(/Read-only file system/);
      const tmp = await node.containerd.execSync(agent.containerId, [
        'sh',
        '-c',
        'echo x > /tmp/probe && cat /tmp/probe',
      ]);
      expect(tmp).toMatchObject({ exitCode: 0, stdout: 'x\n' });
    });

    it('runs under the runtime’s default seccomp profile (RuntimeDefault: filter mode)', async () => {
      const { ds } = node.renderedForTest();
      expect(ds.spec.template.spec.containers[0].securityContext.seccompProfile).toEqual({
        type: 'RuntimeDefault',
      });
      const { pid } = await node.containerd.containerState(agent.containerId);
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Seccomp:\s+2$/m);
    });

    it('runs in the host PID namespace; in the host cgroup namespace only on a hybrid host', async () => {
      const { pid } = await node.containerd.containerState(agent.containerId);
      expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync('/proc/self/ns/pid'));
      // containerd gives a non-privileged container its own cgroup namespace on cgroup v2-only hosts.
      const ownCgroupNs = readlinkSync(`/proc/${pid}/ns/cgroup`) !== readlinkSync('/proc/self/ns/cgroup');
      expect(ownCgroupNs).toBe(CGROUP_BASE === '/sys/fs/cgroup');
    });
  });

  describe('CAP_SYS_RESOURCE', () => {
    // The DaemonSet adds it for kernels < 5.11. runc can only hand a container capabilities it
    // holds itself: on a host whose root lacks it (this project's CI sandbox), the exact DaemonSet
    // cannot start, so the other tests run it without SYS_RESOURCE (this kernel is >= 5.11).
    it(`starts the exact DaemonSet pod only where the runtime holds it (here: ${holdsSysResource() ? 'held' : 'not held'})`, async () => {
      const started = node.startAgent('podtrace-exact', { exactCapabilities: true }).then(
        async (agent) => {
          await node.waitRunning(agent);
          await node.containerd.removePod(agent.sandboxId);
          return 'running';
        },
        (err: unknown) => String(err),
      );
      if (holdsSysResource()) expect(await started).toBe('running');
      else expect(await started).toMatch(/unable to apply caps: operation not permitted/);
    }, 240_000);
  });

  describe('without one of its capabilities', () => {
    for (const dropped of ['BPF', 'PERFMON']) {
      it(`exits 1 at start with podtrace check’s message when ${dropped} is removed`, async () => {
        const agent = await node.startAgent(`podtrace-no-${dropped.toLowerCase()}`, {
          edit: (c: any) => {
            c.securityContext.capabilities.add = c.securityContext.capabilities.add.filter(
              (x: string) => x !== dropped,
            );
            return c;
          },
        });
        const lines = await waitFor(
          () => {
            const l = criLogLines(agent.log);
            return l.some((x) => x.stream === 'stderr' && x.text.startsWith('podtrace:')) ? l : undefined;
          },
          'the agent to fail',
          90_000,
        );
        const stderr = lines
          .filter((l) => l.stream === 'stderr')
          .map((l) => l.text)
          .join('\n');
        expect(stderr).toMatch(/fail capabilities\s+CAP_BPF=(yes|no) CAP_PERFMON=(yes|no) CAP_SYS_ADMIN=no/);
        expect(stderr).toMatch(new RegExp(`CAP_${dropped}=no`));
        expect(stderr).toContain('eBPF not permitted: run as root or grant CAP_BPF and CAP_PERFMON');
        let st = await node.containerd.containerState(agent.containerId);
        for (let i = 0; i < 100 && st.state !== 'CONTAINER_EXITED'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          st = await node.containerd.containerState(agent.containerId);
        }
        expect({ state: st.state, exitCode: st.exitCode }).toEqual({
          state: 'CONTAINER_EXITED',
          exitCode: 1,
        });
        await node.containerd.removePod(agent.sandboxId);
      }, 120_000);
    }
  });
});

describeIf(missing)('the DaemonSet in a private cgroup namespace (cgroup v2-only nodes)', () => {
  // containerd gives every non-privileged container its own cgroup namespace on a cgroup v2-only
  // node; on this hybrid host it does not, so runc is wrapped to add one, as it would.
  const node = new Node(new TestContainerd({ socketDir: true, cgroupNamespace: true }));
  const listener = new ClosingListener();
  let agent: Agent;

  beforeAll(async () => {
    await listener.start();
    await node.start();
    agent = await node.startAgent('podtrace-cgroupns');
    await node.waitRunning(agent);
  }, 300_000);

  afterAll(async () => {
    await node.containerd.stop();
    await listener.stop();
  }, 120_000);

  it('runs the agent in a cgroup namespace of its own', async () => {
    const { pid } = await node.containerd.containerState(agent.containerId);
    expect(readlinkSync(`/proc/${pid}/ns/cgroup`)).not.toBe(readlinkSync('/proc/self/ns/cgroup'));
  });

  it('still attributes an ordinary pod’s events to that pod', async () => {
    const { uid, event } = await node.workloadConnect(agent, 'api-7b9f-k2m4p', listener.port);
    expect(event).toMatchObject({
      'k8s.namespace.name': WORKLOAD_NS,
      'k8s.pod.name': 'api-7b9f-k2m4p',
      'k8s.pod.uid': uid,
      'k8s.container.name': 'web',
    });
  }, 90_000);
});
