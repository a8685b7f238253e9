import type { ChildProcess } from 'node:child_process';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { eventAttributes } from '../../src/events/event-attributes';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import {
  POD_SERVER,
  PodCgroup,
  attributionTools,
  clientConnects,
  inNetns,
  killAndWait,
  lineFrom,
} from '../helpers/pod-cgroup';
import { describeIf } from '../helpers/prereq';
import { PATHS_ONLY_ENRICH, startEbpfPipeline } from '../helpers/ebpf-pipeline';

const base = detectCgroup2Mount('')?.base;

/**
 * A python listener in a pod-shaped cgroup (and its own network namespace), started BEFORE
 * podtrace, with one connection already established. Accepts, server-side closes and
 * retransmits must carry the container id and the listener's pid: the socket's own cgroup
 * (sk_cgrp_data) and the owner learned by the start-up iterator, not the softirq's current task.
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : attributionTools()))(
  'eBPF attribution of sockets that predate podtrace',
  () => {
    const sink = new CollectingSink();
    let pod: PodCgroup;
    let container: { id: string; path: string; cgroupId: number };
    let server: ChildProcess;
    let port: number;
    let prePort: number;
    let pipeline: Pipeline;

    const serverSide = (kind: EventKind): PodtraceEvent[] =>
      sink.events.filter((e) => e.kind === kind && 'localPort' in e && e.localPort === port);

    beforeAll(async () => {
      pod = new PodCgroup(base as string);
      container = pod.container();
      server = pod.spawnIn(container.path, `unshare -n python3 -u ${POD_SERVER}`, 'pipe');
      const ready = await lineFrom(server, /READY port=(\d+) pre=(\d+)/);
      port = Number(ready[1]);
      prePort = Number(ready[2]);
      // Only now does podtrace start.
      const started = await startEbpfPipeline({ enrich: PATHS_ONLY_ENRICH }, [sink]);
      pipeline = started.pipeline;
      expect(started.source.hooks.find((h) => h.hook === 'iter/task_file')).toMatchObject({ attached: true });
    }, 60_000);

    afterAll(async () => {
      await pipeline?.shutdown();
      if (server) await killAndWait(server);
      pod?.remove();
    });

    it('attributes accepts and server-side closes to the listener process and its container', async () => {
      clientConnects(server.pid as number, port, 3);
      const accepts = await waitFor(() => {
        const a = serverSide(EventKind.TcpAccept);
        return a.length >= 3 ? a : undefined;
      }, 'three tcp.accept');
      const closes = await waitFor(() => {
        const c = serverSide(EventKind.TcpClose).filter((e) => 'remotePort' in e && e.remotePort !== prePort);
        return c.length >= 3 ? c : undefined;
      }, 'three server-side tcp.close');
      for (const e of [...accepts, ...closes]) {
        expect(e).toMatchObject({ pid: server.pid, comm: 'python3', cgroupId: container.cgroupId });
        expect(e.meta?.attributes['container.id']).toBe(container.id);
        expect(e.meta?.attributes['k8s.pod.uid']).toBe(pod.podUid);
        expect(e.enrichment).toBe('partial'); // CRI and the API are off: the path is all there is
        expect(eventAttributes(e)['podtrace.tcp.observed_since_start']).toBeUndefined();
      }
      // New connections have a real, bounded handshake duration; closes a real lifetime.
      for (const e of accepts) if (e.kind === EventKind.TcpAccept) expect(e.latencyNs).toBeLessThan(5e9);
      for (const e of closes) if (e.kind === EventKind.TcpClose) expect(e.durationNs).toBeGreaterThan(0);
    });

    it('attributes retransmits and the close of the connection established before podtrace', async () => {
      const pid = server.pid as number;
      inNetns(pid, ['iptables', '-I', 'INPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP']);
      try {
        server.stdin?.write('send\n');
        await waitFor(() => {
          const r = serverSide(EventKind.TcpRetransmit);
          return r.length > 0 ? r : undefined;
        }, 'tcp.retransmit of the pre-existing connection');
      } finally {
        inNetns(pid, ['iptables', '-D', 'INPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP']);
      }
      const retransmit = serverSide(EventKind.TcpRetransmit)[0] as PodtraceEvent;
      expect(retransmit).toMatchObject({ pid, comm: 'python3', cgroupId: container.cgroupId });
      expect(retransmit.meta?.attributes['container.id']).toBe(container.id);
      expect(eventAttributes(retransmit)['podtrace.tcp.observed_since_start']).toBe(true);

      server.stdin?.write('close\n');
      const close = await waitFor(
        () =>
          serverSide(EventKind.TcpClose).find(
            (e) => e.kind === EventKind.TcpClose && e.remotePort === prePort,
          ),
        'tcp.close of the pre-existing connection',
      );
      expect(close).toMatchObject({
        pid,
        comm: 'python3',
        cgroupId: container.cgroupId,
        observedSinceStart: true,
      });
      // Its start was before podtrace: no invented duration.
      if (close.kind === EventKind.TcpClose) expect(close.durationNs).toBe(0);
      expect(close.meta?.attributes['container.id']).toBe(container.id);
      expect(eventAttributes(close)['podtrace.tcp.observed_since_start']).toBe(true);
    });
  },
);
