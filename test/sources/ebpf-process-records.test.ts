import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { silentLogger } from '../../src/core/logger';
import type { PodtraceEvent, ProcessExitEvent, ProcessForkEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { validateConfig } from '../../src/config/load-config';
import { Metrics } from '../../src/telemetry/metrics';
import { describeIf } from '../helpers/prereq';
import { missingBpf, waitFor } from '../helpers/kernel';

const PYTHON = '/usr/bin/python3';

function missing(): string | null {
  return missingBpf() ?? (existsSync(PYTHON) ? null : `${PYTHON} not installed`);
}

/** Runs a program to its end; resolves with its pid and stdout. */
function run(cmd: string, args: string[]): Promise<{ pid: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ pid: child.pid ?? -1, stdout }));
  });
}

/** CLOCK_BOOTTIME ns at which `pid` started, from /proc/<pid>/stat (clock-tick resolution). */
function procStartNs(pid: number): { ns: number; tickNs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[19]); // field 22 of the line, the third after the comm is field 3
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return { ns: (ticks * 1e9) / hz, tickNs: 1e9 / hz };
}

const exitOf = (events: PodtraceEvent[], pid: number): ProcessExitEvent[] =>
  events.filter((e): e is ProcessExitEvent => e.kind === EventKind.ProcessExit && e.pid === pid);
const forksBy = (events: PodtraceEvent[], pid: number): ProcessForkEvent[] =>
  events.filter((e): e is ProcessForkEvent => e.kind === EventKind.ProcessFork && e.pid === pid);

describeIf(missing())('process group records (real kernel)', () => {
  const events: PodtraceEvent[] = [];
  let source: EbpfSource;
  let preexisting: ChildProcess;
  let preexistingStart: { ns: number; tickNs: number };
  let observedAliveAt = 0;

  beforeAll(async () => {
    // A process that was already running when podtrace started: its exit must still carry its
    // real start (the kernel's), not the agent's idea of when it appeared.
    preexisting = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    preexistingStart = procStartNs(preexisting.pid ?? -1);
    observedAliveAt = performance.now();
    source = new EbpfSource(validateConfig({}).source.ebpf, {
      logger: silentLogger(),
      metrics: new Metrics(),
    });
    source.batches$.subscribe((b) => events.push(...b.events));
    await source.start();
  });

  afterAll(async () => {
    preexisting.kill('SIGKILL');
    await source.shutdown();
  });

  /** Runs /bin/true after everything before it was reaped and waits for its exit record. */
  async function sentinel(): Promise<void> {
    const { pid } = await run('/bin/true', []);
    await waitFor(() => exitOf(events, pid)[0], 'the sentinel process.exit');
  }

  it('reports the exit of a process older than podtrace, killed by a signal, with its kernel start and lifetime', async () => {
    const pid = preexisting.pid ?? -1;
    const reaped = new Promise((r) => preexisting.once('exit', r));
    const killedAt = performance.now(); // it started before observedAliveAt and ends after this
    preexisting.kill('SIGKILL');
    await reaped;
    const exit = await waitFor(() => exitOf(events, pid)[0], 'process.exit of the pre-existing sleep');
    expect(exit.signal).toBe(9);
    expect(exit.exitCode).toBeNull();
    expect(exit.tid).toBe(pid);
    expect(exit.comm).toBe('sleep');
    expect(Math.abs(exit.procStartNs - preexistingStart.ns)).toBeLessThanOrEqual(preexistingStart.tickNs);
    expect(exit.lifetimeNs).toBe(exit.bootNs - exit.procStartNs);
    expect(exit.lifetimeNs / 1e6).toBeGreaterThan(killedAt - observedAliveAt);
  });

  it('reports one process.exit per process and no process.fork for its threads, with the code of an exit_group from a secondary thread', async () => {
    const script = [
      'import os, threading, time',
      'ts = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in range(4)]',
      '[t.start() for t in ts]',
      '[t.join() for t in ts]',
      'threading.Thread(target=os._exit, args=(7,)).start()',
      'time.sleep(30)',
    ].join('\n');
    const { pid } = await run(PYTHON, ['-c', script]);
    await sentinel();
    const exits = exitOf(events, pid);
    expect(exits).toHaveLength(1);
    expect(exits[0]?.exitCode).toBe(7);
    expect(exits[0]?.tid).toBe(pid);
    expect(exits[0]?.comm).toBe('python3');
    expect(forksBy(events, pid)).toHaveLength(0);
  });

  it('names the parent process, the forking thread and the child with its start in process.fork', async () => {
    const script = [
      'import json, os, threading',
      'out = {}',
      'def work():',
      '    tid = threading.get_native_id()',
      "    with open(f'/proc/self/task/{tid}/comm', 'w') as f: f.write('forker')",
      '    child = os.fork()',
      '    if child == 0: os._exit(0)',
      '    os.waitpid(child, 0)',
      '    out.update(tid=tid, child=child)',
      't = threading.Thread(target=work)',
      't.start(); t.join()',
      'print(json.dumps(out), flush=True)',
    ].join('\n');
    const { pid, stdout } = await run(PYTHON, ['-c', script]);
    const { tid, child } = JSON.parse(stdout) as { tid: number; child: number };
    await sentinel();
    const forks = forksBy(events, pid);
    expect(forks).toHaveLength(1);
    const fork = forks[0] as ProcessForkEvent;
    expect(fork.childPid).toBe(child);
    expect(fork.tid).toBe(tid);
    expect(fork.comm).toBe('python3'); // the process's (leader's) name, not the thread's
    const childExit = exitOf(events, child);
    expect(childExit).toHaveLength(1);
    expect(childExit[0]?.procStartNs).toBe(fork.childStartNs);
    expect(childExit[0]?.comm).toBe('forker'); // a forked child inherits the forking thread's comm
    expect(childExit[0]?.exitCode).toBe(0);
  });
});
