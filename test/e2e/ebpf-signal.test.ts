import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import type { ProcessSignalEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import type { PodCgroup } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';
import { PATHS_ONLY_ENRICH, startEbpfPipeline } from '../helpers/ebpf-pipeline';

const base = detectCgroup2Mount('')?.base;

/**
 * `kill -USR1` from a process in one pod-shaped cgroup to a process in another: one
 * process.signal attributed to the target's container, with the sender's container alongside.
 * The target was running before podtrace started.
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'process.signal (real kernel)',
  () => {
    const sink = new CollectingSink();
    const cgroups = new PodCgroups(base as string);
    let pipeline: Pipeline;
    let sender: PodCgroup;
    let target: PodCgroup;
    let targetPid: number;
    let targetExit: Promise<string | null>;

    beforeAll(async () => {
      sender = cgroups.make();
      target = cgroups.make();
      const child = cgroups.spawnIn(target, 'exec sleep 60');
      targetPid = child.pid as number;
      targetExit = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      ({ pipeline } = await startEbpfPipeline(
        {
          source: { ebpf: { probes: ['signal'] } },
          enrich: PATHS_ONLY_ENRICH,
        },
        [sink],
      ));
    });

    afterAll(async () => {
      await pipeline.shutdown();
      await cgroups.cleanup();
    });

    it('reports the signal number and name, sender and target with both containers', async () => {
      await waitFor(() => (targetPid > 0 ? true : undefined), 'target pid');
      const code = await cgroups.runIn(sender, `kill -USR1 ${targetPid}`);
      expect(code).toBe(0);
      expect(await targetExit).toBe('SIGUSR1');
      const e = await waitFor(
        () =>
          sink.events.find(
            (x): x is ProcessSignalEvent => x.kind === EventKind.ProcessSignal && x.targetPid === targetPid,
          ),
        'the process.signal to the target',
      );
      expect(e.signal).toBe(10);
      expect(e.signalName).toBe('SIGUSR1');
      expect(e.code).toBe('SI_USER');
      expect(e.result).toBe('delivered');
      expect(e.group).toBe(true);
      expect(e.targetComm).toBe('sleep');
      expect(e.pid).not.toBe(targetPid);
      expect(e.pid).not.toBe(process.pid);
      // The event belongs to the target's container; the sender's is alongside.
      expect(e.meta?.containerId).toBe(target.containerId);
      expect(e.meta?.podUid).toBe(target.podUid);
      expect(e.senderMeta?.containerId).toBe(sender.containerId);
      const attrs = eventAttributes(e);
      expect(attrs['process.pid']).toBe(targetPid);
      expect(attrs['podtrace.signal.name']).toBe('SIGUSR1');
      expect(attrs['podtrace.signal.sender.pid']).toBe(e.pid);
      expect(attrs['podtrace.signal.sender.container.id']).toBe(sender.containerId);
    });

    it('does not report SIGCHLD (ignored by default)', () => {
      expect(sink.events.some((x) => x.kind === EventKind.ProcessSignal && x.signal === 17)).toBe(false);
    });
  },
);
