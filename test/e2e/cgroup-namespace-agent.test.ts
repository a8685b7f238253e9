import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { missingBpf, waitFor } from '../helpers/kernel';
import {
  JsonLines,
  POD_SERVER,
  PodCgroup,
  attributionTools,
  clientConnects,
  killAndWait,
  lineFrom,
  spawnAgentInCgroupNamespace,
} from '../helpers/pod-cgroup';
import { BUILT_MAIN, missingBuiltCli } from '../helpers/built-agent';
import { describeIf } from '../helpers/prereq';

const main = BUILT_MAIN;
const base = detectCgroup2Mount('')?.base;

function missing(): string | null {
  return (
    missingBpf() ??
    (base === undefined ? 'no cgroup2 mount' : null) ??
    missingBuiltCli() ??
    attributionTools()
  );
}

/**
 * `podtrace run` as a non-privileged DaemonSet container runs it: in its own cgroup with a private
 * cgroup namespace, where every other process's /proc/<pid>/cgroup reads `0::/../../…` and the
 * /proc fast path can never match. Rescans are configured out (10 minutes apart), so only the
 * kernel's own records can attribute: the socket's cgroup for a listener started before the agent,
 * cgroup_mkdir for a container created after it.
 */
describeIf(missing())('podtrace run under unshare -C (private cgroup namespace)', () => {
  let pod: PodCgroup;
  let before: { id: string; path: string; cgroupId: number };
  let server: ChildProcess;
  let agent: ChildProcess;
  let out: JsonLines;
  let port: number;

  beforeAll(async () => {
    pod = new PodCgroup(base as string);
    before = pod.container();
    server = pod.spawnIn(before.path, `unshare -n python3 -u ${POD_SERVER}`, 'pipe');
    port = Number((await lineFrom(server, /READY port=(\d+)/))[1]);
    const agentDir = join(base as string, pod.root, 'podtrace-agent');
    mkdirSync(agentDir);
    const dir = mkdtempSync(join(tmpdir(), 'podtrace-cgns-'));
    const config = join(dir, 'podtrace.yaml');
    writeFileSync(
      config,
      [
        'enrich:',
        '  rescanMinIntervalMs: 600000',
        '  cri: { enabled: false }',
        '  kubernetes: { enabled: false }',
        'filter: { includeHost: false }',
        'telemetry: { enabled: false }',
        'sinks:',
        '  console: { enabled: true, format: json }',
      ].join('\n'),
    );
    agent = spawnAgentInCgroupNamespace(agentDir, main, config);
    out = new JsonLines(agent);
    await waitFor(
      () => (out.log.includes('podtrace running') ? true : undefined),
      'the agent to start',
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    if (agent) await killAndWait(agent);
    if (server) await killAndWait(server);
    pod?.remove();
  });

  it('runs in a cgroup namespace where /proc/<pid>/cgroup does not name the real path', () => {
    const r = spawnSync(
      'nsenter',
      ['-t', String(agent.pid), '-C', 'cat', `/proc/${String(server.pid)}/cgroup`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout).toMatch(/^0::\/\.\.\//m);
  });

  it('attributes the accepts of a listener started before the agent to its container and pid', async () => {
    clientConnects(server.pid as number, port, 3);
    const accepts = await waitFor(() => {
      const a = out.lines.filter((l) => l['event.name'] === 'tcp.accept' && l['network.local.port'] === port);
      return a.length >= 3 ? a : undefined;
    }, 'three tcp.accept lines');
    for (const a of accepts) {
      expect(a).toMatchObject({
        'process.pid': server.pid,
        'process.executable.name': 'python3',
        'container.id': before.id,
        'k8s.pod.uid': pod.podUid,
        'podtrace.enrichment': 'partial',
      });
    }
  });

  it('attributes a container created after the agent started from cgroup_mkdir, without a rescan', async () => {
    const marker = `marker-${randomBytes(4).toString('hex')}`;
    const fresh = pod.container();
    const child = pod.spawnIn(fresh.path, `/bin/echo ${marker}`);
    await new Promise((r) => child.once('exit', r));
    const exec = await waitFor(
      () =>
        out.lines.find(
          (l) =>
            l['event.name'] === 'process.exec' &&
            Array.isArray(l['process.command_args']) &&
            (l['process.command_args'] as string[]).includes(marker),
        ),
      'the exec line of the new container',
    );
    expect(exec).toMatchObject({ 'container.id': fresh.id, 'k8s.pod.uid': pod.podUid });
  });
});
