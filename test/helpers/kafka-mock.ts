import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../src/native/native-addon';

// The package root, from test/helpers/ under ts-jest and from dist/test/helpers/ when compiled (bench).
const ROOT = packageRoot();
export const KAFKA_MOCK_BIN = join(ROOT, 'build', 'kafka-mock', 'kafka-mock');
const BUILD_SCRIPT = join(ROOT, 'tools', 'kafka-mock', 'build.sh');
export const KCAT_BIN = '/usr/bin/kcat';

let buildResult: string | null | undefined;

/**
 * Null when the mock cluster can run: builds build/kafka-mock/kafka-mock on first use (needs cc and
 * librdkafka-dev). Otherwise the reason it cannot.
 */
export function kafkaMockMissing(): string | null {
  if (buildResult !== undefined) return buildResult;
  if (!existsSync(KAFKA_MOCK_BIN)) {
    const r = spawnSync(BUILD_SCRIPT, [], { encoding: 'utf8' });
    if (r.status !== 0) {
      buildResult = `Kafka mock cluster not built: ${BUILD_SCRIPT} failed (needs a C compiler and librdkafka-dev): ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}`;
      return buildResult;
    }
  }
  buildResult = null;
  return buildResult;
}

/** Null when kcat (Debian package `kcat`) is installed. */
export function kcatMissing(): string | null {
  return existsSync(KCAT_BIN) ? null : `${KCAT_BIN} not found (apt-get install kcat)`;
}

/**
 * A librdkafka mock cluster in a child process (tools/kafka-mock): real Kafka protocol on loopback
 * ephemeral ports. Brokers are numbered 1..n; the controls answer once the cluster applied them.
 */
export class KafkaMock {
  private readonly replies: ((line: string) => void)[] = [];
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly brokers: string[],
    lines: AsyncIterableIterator<string>,
  ) {
    void (async () => {
      for await (const line of lines) this.replies.shift()?.(line);
    })();
    child.once('exit', () => {
      this.exited = true;
      for (const r of this.replies.splice(0)) r('error exited');
    });
  }

  /** Starts a cluster of `brokers` brokers with `topics` (`name:partitions:replicationFactor`). */
  static async start(options: { brokers?: number; topics?: string[] } = {}): Promise<KafkaMock> {
    const args = ['-b', String(options.brokers ?? 3), ...(options.topics ?? [])];
    const child = spawn(KAFKA_MOCK_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done === true || first.value.trim() === '') {
      child.kill();
      throw new Error(`kafka-mock did not start: ${stderr.trim()}`);
    }
    return new KafkaMock(child, first.value.trim().split(','), lines);
  }

  get bootstrap(): string {
    return this.brokers.join(',');
  }

  /** Broker `id` (-1: all) refuses connections; partitions keep their leaders. */
  down(id: number): Promise<void> {
    return this.command(`down ${id}`);
  }

  up(id: number): Promise<void> {
    return this.command(`up ${id}`);
  }

  leader(topic: string, partition: number, id: number): Promise<void> {
    return this.command(`leader ${topic} ${partition} ${id}`);
  }

  create(topic: string, partitions: number, replicationFactor: number): Promise<void> {
    return this.command(`create ${topic} ${partitions} ${replicationFactor}`);
  }

  /** Metadata answers `topic` with Kafka error `code` (29 TOPIC_AUTHORIZATION_FAILED, 3 UNKNOWN_TOPIC_OR_PARTITION; 0 clears). */
  topicError(topic: string, code: number): Promise<void> {
    return this.command(`topicerr ${topic} ${code}`);
  }

  /** The next requests of API `apiKey` (0 = Produce) fail with `codes`, one each, in order. */
  requestErrors(apiKey: number, codes: number[]): Promise<void> {
    return this.command(`reqerr ${apiKey} ${codes.join(' ')}`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end('quit\n');
    await exited;
  }

  private command(line: string): Promise<void> {
    if (this.exited) return Promise.reject(new Error('kafka-mock has exited'));
    return new Promise((resolve, reject) => {
      this.replies.push((reply) =>
        reply === 'ok' ? resolve() : reject(new Error(`kafka-mock ${line}: ${reply}`)),
      );
      this.child.stdin.write(`${line}\n`);
    });
  }
}

/** One record as kcat -J prints it. */
export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

/** Reads a whole topic with kcat (`-C -J -e`): an independent consumer (librdkafka, not kafkajs). */
export function kcatRead(bootstrap: string, topic: string): KcatRecord[] {
  const out = execFileSync(
    KCAT_BIN,
    ['-C', '-J', '-q', '-e', '-b', bootstrap, '-t', topic, '-X', 'topic.auto.offset.reset=earliest'],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60000,
    },
  );
  return out
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const j = JSON.parse(l) as {
        topic: string;
        partition: number;
        offset: number;
        key: string | null;
        payload: string | null;
        headers?: string[];
      };
      const headers: Record<string, string> = {};
      const h = j.headers ?? [];
      for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]!] = h[i + 1]!;
      return {
        topic: j.topic,
        partition: j.partition,
        offset: j.offset,
        key: j.key,
        payload: j.payload,
        headers,
      };
    });
}

/** Reads `count` records of a topic from the beginning with a kafkajs consumer (for binary values kcat -J cannot carry). */
export async function kafkajsRead(
  brokers: string[],
  topic: string,
  count: number,
): Promise<{ key: string | null; value: Buffer; headers: Record<string, string>; partition: number }[]> {
  const { Kafka, logLevel } = await import('kafkajs');
  const consumer = new Kafka({ brokers, clientId: 'podtrace-test', logLevel: logLevel.NOTHING }).consumer({
    groupId: `podtrace-test-${process.pid}-${Date.now()}`,
  });
  const out: { key: string | null; value: Buffer; headers: Record<string, string>; partition: number }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length}/${count} records of ${topic}`)),
        60000,
      );
      consumer
        .run({
          eachMessage: ({ message, partition }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
            out.push({
              key: message.key?.toString() ?? null,
              value: message.value ?? Buffer.alloc(0),
              headers,
              partition,
            });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
