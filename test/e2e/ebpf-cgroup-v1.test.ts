import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectAttributionMode } from '../../src/enrich/cgroup/attribution-mode';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { EventKind } from '../../src/events/event-kind';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroup } from '../helpers/pod-cgroup';
import { describeIf } from '../helpers/prereq';

const PIDS_V1 = '/sys/fs/cgroup/pids';

function v1Missing(): string | null {
  if (!existsSync(join(PIDS_V1, 'cgroup.procs')) || existsSync(join(PIDS_V1, 'cgroup.controllers')))
    return 'no cgroup v1 pids hierarchy mounted';
  return null;
}

/**
 * cgroup v1 mode, as on Amazon Linux 2: events are stamped with the task's cgroup in the pids
 * controller's v1 hierarchy (css_set.subsys[pids], read in BPF), cgroup_mkdir of that hierarchy
 * feeds the paths, and the AL2 cgroupfs layout `/kubepods/besteffort/pod<uid>/<id>` resolves.
 */
describeIf(missingBpf() ?? v1Missing())('eBPF attribution in cgroup v1 mode', () => {
  const sink = new CollectingSink();
  let pipeline: Pipeline;
  let pod: PodCgroup;
  const config = validateConfig({
    enrich: {
      cgroupMode: 'v1',
      cgroupV1Controller: 'pids',
      rescanMinIntervalMs: 600000,
      cri: { enabled: false },
      kubernetes: { enabled: false },
    },
  });
  const mode = detectAttributionMode(config.enrich);

  beforeAll(async () => {
    const metrics = new Metrics();
    const source = new EbpfSource(config.source.ebpf, {
      logger: silentLogger(),
      metrics,
      attribution: { hierarchyId: mode.hierarchyId, v1Ssid: mode.v1Ssid },
    });
    const enricher = new PodEnricher(config.enrich, config.filter, {
      logger: silentLogger(),
      metrics,
      nodeName: 'n',
      attribution: mode,
    });
    pipeline = new Pipeline(source, enricher, [sink], silentLogger());
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline?.shutdown();
    pod?.remove();
  });

  it('detects the pids v1 hierarchy and says why', () => {
    expect(mode).toMatchObject({ mode: 'v1', controller: 'pids', base: PIDS_V1 });
    expect(mode.hierarchyId).toBeGreaterThan(0);
    expect(mode.reason).toContain('enrich.cgroupMode is v1');
  });

  it('attributes a process in an AL2-shaped v1 container cgroup created after start', async () => {
    pod = new PodCgroup(PIDS_V1, undefined, 'cgroupfs');
    const c = pod.container();
    const marker = `v1-${randomBytes(4).toString('hex')}`;
    const child = pod.spawnIn(c.path, `/bin/echo ${marker}`);
    await new Promise((r) => child.once('exit', r));
    const exec = await waitFor(
      () => sink.events.find((e) => e.kind === EventKind.ProcessExec && e.args.includes(marker)),
      'the exec in the v1 container',
    );
    // The id is the v1 directory's inode, not the cgroup2 one.
    expect(exec.cgroupId).toBe(statSync(pod.dir(c.path)).ino);
    expect(exec.meta?.attributes['container.id']).toBe(c.id);
    expect(exec.meta?.attributes['k8s.pod.uid']).toBe(pod.podUid);
    expect(exec.enrichment).toBe('partial');
  });
});
