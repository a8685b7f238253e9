import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiagnoseReport } from '../../src/diagnose/report-model';
import { TestContainerd, podNetworkMissing } from '../helpers/containerd';
import { missingBpf } from '../helpers/kernel';
import { outcome, spawnPodtrace } from '../helpers/podtrace-cli';
import { describeIf } from '../helpers/prereq';

const NODE = 'node-trace';

/** A pod doing known work every second: a command that fails (ls exits 1) and a connect that is refused. */
const WORK = 'while true; do ls /nonexistent 2>/dev/null; nc 127.0.0.1 9 </dev/null; sleep 1; done';
/** Another pod of the same namespace, exec'ing a command the first never runs (with a password in its URL). */
const NOISE = 'while true; do wget -q -O /dev/null http://u:pw-noise@127.0.0.1:7/ 2>/dev/null; sleep 1; done';

function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** argv[0] of the exec events (busybox sh runs its applets as /proc/self/exe: argv[0] names them). */
function execNames(events: Record<string, unknown>[]): string[] {
  return events
    .filter((e) => e['event.name'] === 'process.exec')
    .map((e) => (e['process.command_args'] as string[])[0] as string);
}

describeIf(missingBpf() ?? podNetworkMissing())('podtrace trace -n NS POD on a real containerd pod', () => {
  const containerd = new TestContainerd();
  const out = mkdtempSync(join(tmpdir(), 'pt-trace-'));
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await containerd.start();
    env = { PODTRACE_CRI_ENDPOINT: containerd.endpoint, NODE_NAME: NODE };
    for (const [name, cmd] of [
      ['worker-0', WORK],
      ['noise-0', NOISE],
    ] as const) {
      const uid = randomUUID();
      await containerd.runPod({
        name,
        namespace: 'jobs',
        uid,
        cgroupParent: `/kubepods/besteffort/pod${uid}`,
        network: 'pod',
        hostname: name,
        container: { name: 'main', command: ['/bin/sh', '-c', cmd] },
      });
    }
  }, 120_000);

  afterAll(async () => {
    await containerd.stop();
  }, 120_000);

  it('streams only the pod’s events while a second podtrace builds a report beside it', async () => {
    const reportFile = join(out, 'report.json');
    // Two podtrace processes at once: each loads its own BPF programs and ring buffer.
    const trace = spawnPodtrace(
      ['trace', '-n', 'jobs', 'worker-0', '--duration', '10s', '--output', 'json'],
      env,
    );
    const noise = spawnPodtrace(
      ['trace', '-n', 'jobs', 'noise-0', '--duration', '10s', '--output', 'json'],
      env,
    );
    const diag = spawnPodtrace(
      [
        'trace',
        '-n',
        'jobs',
        'worker-0',
        '--diagnose',
        '8s',
        '--report',
        reportFile,
        '--report-format',
        'json',
      ],
      env,
    );
    const done = Promise.all([outcome(trace), outcome(noise), outcome(diag)]);
    // Host activity during the window must not show up.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      spawnSync('/bin/true');
    }
    const [t, n, d] = await done;
    expect([t.code, n.code, d.code]).toEqual([0, 0, 0]);
    const events = jsonLines(t.stdout);
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e['k8s.pod.name']))).toEqual(new Set(['worker-0']));
    expect(new Set(events.map((e) => e['k8s.namespace.name']))).toEqual(new Set(['jobs']));
    expect(new Set(execNames(events))).toEqual(new Set(['nc', 'sleep']));
    // The other pod did exec wget meanwhile: the scope, not a quiet neighbour, kept it out.
    const others = jsonLines(n.stdout);
    expect(new Set(others.map((e) => e['k8s.pod.name']))).toEqual(new Set(['noise-0']));
    expect(execNames(others)).toContain('wget');
    // `trace` redacts argv at decode like `run` (the console adds no redaction of its own).
    expect(n.stdout).not.toContain('pw-noise');
    expect(others.find((e) => execNames([e])[0] === 'wget')?.['process.command_args']).toContain(
      'http://u:[REDACTED]@127.0.0.1:7/',
    );
    const refused = events.filter(
      (e) => e['event.name'] === 'tcp.connect' && e['error.type'] === 'ECONNREFUSED',
    );
    expect(refused.length).toBeGreaterThan(0);
    // The kernel produced only the pod's records: the neighbour's and the host's were not produced.
    expect(t.stderr).toMatch(
      /podtrace: \d+ events of pod jobs\/worker-0; 0 events not attributable to any pod; in-kernel scope: [1-9]\d* cgroups of the pod, [1-9]\d* records of other cgroups not produced/,
    );

    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as DiagnoseReport;
    expect(report.schema).toBe('podtrace.diagnose.v1');
    expect(report.pod).toMatchObject({ namespace: 'jobs', name: 'worker-0', node: NODE, resolvedBy: 'cri' });
    expect(report.pod.containers).toEqual([expect.objectContaining({ name: 'main', state: 'running' })]);
    expect(report.sections.map((s) => [s.id, s.available])).toEqual([
      ['processes', true],
      ['tcp', true],
      ['dns', false],
      ['file', false],
      ['signals', true],
      ['runqueue', false],
    ]);
    const messages = report.findings.map((f) => f.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^100 % of connects to 127\.0\.0\.1:9 were refused \(\d+ of \d+\)$/),
        expect.stringMatching(/^`ls` exited non-zero \d+ of \d+ times \(exit 1 ×\d+\)$/),
        expect.stringMatching(/^`nc` exited non-zero \d+ of \d+ times \(exit 1 ×\d+\)$/),
      ]),
    );
    expect(report.events.total).toBeGreaterThan(0);
  }, 120_000);

  it('prints the text report with every section and the findings first', async () => {
    const r = await outcome(spawnPodtrace(['trace', '-n', 'jobs', 'worker-0', '--diagnose', '5s'], env));
    expect(r.code).toBe(0);
    const text = r.stdout;
    const order = [
      'podtrace diagnose: pod jobs/worker-0',
      'Findings',
      'Processes',
      'TCP',
      'DNS',
      'Slow file I/O',
      'Signals',
      'Run-queue latency',
    ].map((h) => text.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('DNS\n  probe group "dns" not enabled (add it with --probes)');
    expect(text).toMatch(/ !! 100 % of connects to 127\.0\.0\.1:9 were refused/);
    process.stderr.write(`--- example report ---\n${text}`);
  }, 120_000);

  it('fails with one line naming the namespace for a pod that is not there, and for a container not in it', async () => {
    const r = await outcome(spawnPodtrace(['trace', '-n', 'jobs', 'absent-0', '--duration', '1s'], env));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^podtrace: pod "absent-0" not found in namespace "jobs" on this node/);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    const c = await outcome(
      spawnPodtrace(['trace', '-n', 'jobs', 'worker-0', '-c', 'web', '--duration', '1s'], env),
    );
    expect(c.stderr).toBe('podtrace: container "web" is not in pod jobs/worker-0 (containers: main)\n');
  }, 60_000);
});
