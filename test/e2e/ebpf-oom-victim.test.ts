import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroup, killAndWait, lineFrom } from '../helpers/pod-cgroup';
import { describeIf } from '../helpers/prereq';
import { PATHS_ONLY_ENRICH, startEbpfPipeline } from '../helpers/ebpf-pipeline';

const base = detectCgroup2Mount('')?.base;
/** This host's memory controller is on cgroup v1 (the unified hierarchy has none). */
const MEMORY_V1 = '/sys/fs/cgroup/memory';
const MiB = 1024 * 1024;

function memoryMissing(): string | null {
  if (base === undefined) return 'no cgroup2 mount';
  if (!existsSync(join(MEMORY_V1, 'memory.limit_in_bytes'))) return 'no cgroup v1 memory controller mounted';
  return null;
}

/** python that allocates `mib` MiB (touched), prints READY, then sleeps (or, with `exit`, exits). */
function allocator(mib: number, then: 'sleep' | 'exit'): string {
  return `python3 -u -c "
import time
chunks = []
for _ in range(${Math.floor(mib / 4)}):
    chunks.append(bytearray(4 * 1024 * 1024))
print('READY', flush=True)
${then === 'sleep' ? 'time.sleep(600)' : ''}
"`;
}

/**
 * A pod-level memcg OOM: the pod's memory limit is hit by container A's allocation, and the kernel
 * kills the larger process, in sibling container B. The oom.kill event must name B's process and
 * container (from the victim task), with A's process as the trigger.
 */
describeIf(missingBpf() ?? memoryMissing())('eBPF oom.kill of a victim in a sibling container', () => {
  const sink = new CollectingSink();
  let pod: PodCgroup;
  let pipeline: Pipeline;
  const v1Pod = join(MEMORY_V1, `podtrace-oom-${randomBytes(4).toString('hex')}`);
  const children: ChildProcess[] = [];

  /** Runs `command` in container `path` (cgroup2, for attribution) and the pod's v1 memory child. */
  function runIn(path: string, memDir: string, command: string): ChildProcess {
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        `echo $$ > ${join(pod.dir(path), 'cgroup.procs')} && echo $$ > ${join(memDir, 'cgroup.procs')} && exec ${command}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    pod = new PodCgroup(base as string);
    ({ pipeline } = await startEbpfPipeline(
      {
        source: { ebpf: { probes: ['process', 'oom'] } },
        enrich: PATHS_ONLY_ENRICH,
      },
      [sink],
    ));
  });

  afterAll(async () => {
    await pipeline?.shutdown();
    for (const c of children) await killAndWait(c);
    for (const d of ['a', 'b', '']) {
      try {
        rmdirSync(join(v1Pod, d));
      } catch {
        // best effort
      }
    }
    pod?.remove();
  });

  it('names the victim and its container, and keeps the allocating process as the trigger', async () => {
    const a = pod.container();
    const b = pod.container();
    mkdirSync(join(v1Pod, 'a'), { recursive: true });
    mkdirSync(join(v1Pod, 'b'));
    writeFileSync(join(v1Pod, 'memory.limit_in_bytes'), String(128 * MiB));
    const victim = runIn(b.path, join(v1Pod, 'b'), allocator(80, 'sleep'));
    await lineFrom(victim, /READY/, 30_000);
    // A grows to 64 MiB: the pod (80 + 64 + interpreters) exceeds 128 MiB while B is the largest.
    const trigger = runIn(a.path, join(v1Pod, 'a'), allocator(64, 'exit'));
    const oom = await waitFor(
      () => sink.events.find((e) => e.kind === EventKind.OomKill && e.victimPid === victim.pid),
      'the oom.kill of the victim',
      30_000,
    );
    if (oom.kind !== EventKind.OomKill) throw new Error('kind');
    expect(oom).toMatchObject({
      pid: victim.pid,
      comm: 'python3',
      cgroupId: b.cgroupId,
      victimCgroupId: b.cgroupId,
      triggerPid: trigger.pid,
    });
    expect(oom.meta?.attributes['container.id']).toBe(b.id);
    expect(oom.meta?.attributes['k8s.pod.uid']).toBe(pod.podUid);
    const attrs = eventAttributes(oom);
    expect(attrs['process.pid']).toBe(victim.pid);
    expect(attrs['podtrace.oom.trigger_pid']).toBe(trigger.pid);
    expect(oom.rssPages).toBeGreaterThan((60 * MiB) / 4096);
  }, 60_000);
});
