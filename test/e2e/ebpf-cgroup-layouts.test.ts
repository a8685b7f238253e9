import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { missingBpf, waitFor } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';
import { PATHS_ONLY_ENRICH, startEbpfPipeline } from '../helpers/ebpf-pipeline';
import { CollectingSink } from '../helpers/collecting-sink';

/** Runs `sh -c 'echo $$ > cgroup.procs; exec /bin/echo <marker>'`: the exec happens inside the cgroup. */
function execInCgroup(dir: string, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/bin/sh',
      ['-c', `echo $$ > ${join(dir, 'cgroup.procs')}; exec /bin/echo ${marker}`],
      {
        stdio: 'ignore',
      },
    );
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

const base = detectCgroup2Mount('')?.base;

/**
 * Layouts b (cgroupfs driver, as on Bottlerocket) and c (CRI-O naming) with real cgroup2
 * directories and real processes: the kernel's cgroup id of each event resolves to the container
 * id and pod uid in the path (no runtime is asked: CRI and the API are off, so `partial`).
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'eBPF events from real cgroup layouts',
  () => {
    const sink = new CollectingSink();
    let pipeline: Pipeline;
    const dirs: string[] = [];

    beforeAll(async () => {
      ({ pipeline } = await startEbpfPipeline(
        {
          enrich: PATHS_ONLY_ENRICH,
        },
        [sink],
      ));
    });

    afterAll(async () => {
      await pipeline.shutdown();
      for (const d of dirs.reverse()) {
        try {
          rmdirSync(d);
        } catch {
          // still busy or already gone
        }
      }
    });

    function makeCgroup(path: string): string {
      const parts = path.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const d = join(base as string, ...parts.slice(0, i));
        try {
          mkdirSync(d);
          dirs.push(d);
        } catch {
          // exists
        }
      }
      return join(base as string, path);
    }

    it.each([
      ['cgroupfs (Bottlerocket)', (uid: string, id: string) => `kubepods/besteffort/pod${uid}/${id}`],
      [
        'CRI-O under systemd',
        (uid: string, id: string) =>
          `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/crio-${id}.scope`,
      ],
    ])('%s: the exec carries the container id and pod uid from the path', async (_name, layout) => {
      const uid = randomUUID();
      const id = randomBytes(32).toString('hex');
      const dir = makeCgroup(layout(uid, id));
      const marker = `marker-${id.slice(0, 8)}`;
      await execInCgroup(dir, marker);
      const exec = await waitFor(
        () => sink.events.find((e) => e.kind === EventKind.ProcessExec && e.args.includes(marker)),
        `the exec of ${marker}`,
      );
      expect(exec.meta?.containerId).toBe(id);
      expect(exec.meta?.podUid).toBe(uid);
      expect(exec.meta?.attributes['container.id']).toBe(id);
      expect(exec.enrichment).toBe('partial');
    });

    it('keeps crio-conmon (the monitor, not the container) on the host', async () => {
      const uid = randomUUID();
      const id = randomBytes(32).toString('hex');
      const dir = makeCgroup(
        `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice/crio-conmon-${id}.scope`,
      );
      const marker = `conmon-${id.slice(0, 8)}`;
      await execInCgroup(dir, marker);
      const exec = await waitFor(
        () => sink.events.find((e) => e.kind === EventKind.ProcessExec && e.args.includes(marker)),
        `the exec of ${marker}`,
      );
      expect(exec.meta?.containerId ?? null).toBeNull();
      expect(exec.meta?.host).toBe(true);
    });
  },
);
