import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_GROUPS } from '../../src/events/event-kind';
import { packageRoot } from '../../src/native/native-addon';
import { KafkaMock, kafkaMockMissing, kcatMissing, kcatRead } from '../helpers/kafka-mock';
import { waitFor } from '../helpers/kernel';
import { describeIf, isRoot, prerequisite } from '../helpers/prereq';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const TOPICS = [...new Set(Object.values(EVENT_GROUPS))].map((g) => `podtrace.${g}`);

interface Agent {
  child: ChildProcessWithoutNullStreams;
  log: () => string;
  exited: Promise<number | null>;
}

function startAgent(config: string, wrap: string[] = []): Agent {
  const argv = [...wrap, process.execPath, main, 'run', '--config', config];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

/** The `kafka sink stopped` log line: the run's instance id and its last event.seq. */
function stopped(log: string): { instanceId: string; lastSeq: number } {
  const line = log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'kafka sink stopped');
  if (line === undefined) throw new Error(`no "kafka sink stopped" line in:\n${log}`);
  return { instanceId: line.instanceId as string, lastSeq: line.lastSeq as number };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeIf(existsSync(main) ? (kafkaMockMissing() ?? kcatMissing()) : 'dist not built (npm run build:ts)')(
  'podtrace run with sinks.kafka.queue.storage: disk',
  () => {
    let mock: KafkaMock;
    let dir: string;

    beforeEach(async () => {
      mock = await KafkaMock.start({ brokers: 1, topics: TOPICS.map((t) => `${t}:2:1`) });
      dir = mkdtempSync(join(tmpdir(), 'podtrace-dq-restart-'));
    });

    afterEach(async () => {
      await mock.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    function writeConfig(queueDir: string, shutdownMs: number): string {
      const config = join(dir, `podtrace-${shutdownMs}.yaml`);
      writeFileSync(
        config,
        [
          'source: { kind: synthetic, synthetic: { eventsPerSecond: 1000, pods: 4 } }',
          'enrich: { enabled: false }',
          'telemetry: { enabled: false, log: { format: json } }',
          `shutdown: { timeoutMs: ${shutdownMs} }`,
          'sinks:',
          '  console: { enabled: false }',
          `  kafka: { enabled: true, brokers: ["${mock.bootstrap}"], lossReportSeconds: 3600, buffer: { maxRecords: 1000 }, retry: { initialBackoffMs: 50, maxBackoffMs: 500 }, queue: { storage: disk, dir: "${queueDir}" } }`,
        ].join('\n'),
      );
      return config;
    }

    it('SIGTERM while the brokers are down keeps the backlog; the restarted agent sends it once they are back: every event.seq of both runs arrives', async () => {
      const queueDir = join(dir, 'queue');
      const first = startAgent(writeConfig(queueDir, 2000));
      let second: Agent | null = null;
      try {
        await waitFor(
          () => (first.log().includes('podtrace running') ? true : undefined),
          'agent 1 to start',
          30_000,
        );
        await sleep(1500);
        await mock.down(-1);
        await sleep(4000);
        first.child.kill('SIGTERM');
        // Nothing was dropped (the backlog is kept on disk, not counted as undelivered): exit 0.
        expect(await first.exited).toBe(0);
        expect(first.log()).toMatch(
          /podtrace: sink kafka: \d+ events kept in the disk queue, sent after the next start/,
        );
        const run1 = stopped(first.log());

        second = startAgent(writeConfig(queueDir, 20_000));
        await waitFor(
          () => (second!.log().includes('podtrace running') ? true : undefined),
          'agent 2 to start',
          30_000,
        );
        expect(second.log()).toContain('disk queue: replaying what the previous run did not deliver');
        await sleep(2000); // still down: agent 2 queues its own events behind the replay
        await mock.up(-1);
        await sleep(6000);
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
        expect(second.log()).toContain(
          'podtrace: sink kafka: everything accepted was delivered or counted before shutdown',
        );
        const run2 = stopped(second.log());
        expect(run2.instanceId).not.toBe(run1.instanceId);

        const bySeq = new Map<string, Set<number>>();
        for (const t of TOPICS)
          for (const r of kcatRead(mock.bootstrap, t)) {
            const v = JSON.parse(r.payload ?? 'null') as Record<string, unknown>;
            const id = v['podtrace.instance.id'] as string;
            if (!bySeq.has(id)) bySeq.set(id, new Set());
            bySeq.get(id)!.add(v['event.seq'] as number);
          }
        expect(run1.lastSeq).toBeGreaterThan(4000);
        expect([...(bySeq.get(run1.instanceId) ?? [])].sort((a, b) => a - b)).toEqual(range(run1.lastSeq));
        expect([...(bySeq.get(run2.instanceId) ?? [])].sort((a, b) => a - b)).toEqual(range(run2.lastSeq));
      } finally {
        first.child.kill('SIGKILL');
        second?.child.kill('SIGKILL');
      }
    }, 120_000);

    it('refuses to start on a read-only queue.dir with an error naming the key and the path', async () => {
      if (
        !prerequisite(
          isRoot() && spawnSync('unshare', ['--help']).status === 0
            ? null
            : 'needs root and unshare (a read-only mount)',
        )
      )
        return;
      const queueDir = join(dir, 'readonly');
      // A private mount namespace where queue.dir is a read-only tmpfs: what a read-only root gives.
      const config = writeConfig(`${queueDir}/kafka`, 2000);
      const agent = startAgent(config, [
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mkdir -p ${queueDir} && mount -t tmpfs -o ro tmpfs ${queueDir} && exec "$0" "$@"`,
      ]);
      const code = await agent.exited;
      expect(code).toBe(2);
      expect(agent.log()).toContain(`sinks.kafka.queue.dir: ${queueDir}/kafka is not a writable directory`);
      expect(agent.log()).toMatch(/EROFS|read-only file system/i);
    }, 60_000);
  },
);
