/**
 * `node dist/bench/kafka-client.bench.js` — kafkajs next to librdkafka (`@confluentinc/kafka-javascript`,
 * its KafkaJS-compatible API and its native produce()), side by side on the Kafka sink's own records.
 *
 *   PODTRACE_BENCH_RDKAFKA=/path/to/node_modules/@confluentinc/kafka-javascript  (else: resolved from here; absent: kafkajs only)
 *   BENCH_KAFKA_CLIENTS=kafkajs,ckjs-kafkajs,ckjs-native  BENCH_KAFKA_CODECS=zstd,gzip
 *   BENCH_KAFKA_ENCODINGS=json,otlp_proto  BENCH_KAFKA_EVENTS=100000  BENCH_REPS=3
 *   BENCH_LINGER_MS=5  BENCH_QUEUE_KBYTES=65536  BENCH_RDKAFKA_IDEMPOTENT=true  BENCH_NODE_FLAGS=image|default|'<flags>'
 *
 * Every run is a child process of its own (its CPU and RSS are the client's alone) against a fresh
 * librdkafka mock cluster (3 brokers, topics of 3 partitions × 3 replicas); the clients alternate
 * inside each codec × encoding, their order reversed every repetition. Reported per case: the
 * median CPU time per record (process.cpuUsage: every thread, librdkafka's included), records/s,
 * RSS max, records acknowledged by the client and records in the cluster's log (high watermarks).
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import {
  DEFAULT_KAFKA_BATCH_MAX_BYTES,
  DEFAULT_KAFKA_BATCH_MAX_RECORDS,
  DEFAULT_KAFKA_MAX_IN_FLIGHT,
  DEFAULT_KAFKA_OTLP_TOPIC,
  DEFAULT_KAFKA_TOPIC_PREFIX,
} from '../src/sinks/kafka/kafka-config';
import { topicsByKind } from '../src/sinks/kafka/kafka-topics';
import { KafkaMock, kafkaMockMissing } from '../test/helpers/kafka-mock';
import type { BenchClientName, BenchCodec } from './lib/kafka-bench-clients';
import { BENCH_CLIENTS, createBenchClient } from './lib/kafka-bench-clients';
import type { BenchEncoding } from './lib/kafka-bench-records';
import { sendLikeTheSink, sinkRecords, topicBatches } from './lib/kafka-bench-records';
import { median } from './lib/stats';
import { imageNodeOptions } from './scenarios/agent';

interface RunSpec {
  client: BenchClientName;
  codec: BenchCodec;
  encoding: BenchEncoding;
  events: number;
  brokers: string[];
  lingerMs: number;
  queueKbytes: number;
  rdkafkaIdempotent: boolean;
  rdkafkaModule?: string;
}

interface RunResult {
  records: number;
  events: number;
  warmup: number;
  acked: number;
  cpuUs: number;
  wallMs: number;
  rssBaseMb: number;
  rssMaxMb: number;
  valueBytes: number;
  settings: string;
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/** One measured run, in this (child) process. */
async function childRun(spec: RunSpec): Promise<RunResult> {
  const records = sinkRecords(spec.encoding, spec.events);
  const batches = topicBatches(records, DEFAULT_KAFKA_BATCH_MAX_RECORDS, DEFAULT_KAFKA_BATCH_MAX_BYTES);
  const client = await createBenchClient(spec.client, spec);
  // Warm-up outside the measurement: connect, producer ids and metadata of every topic.
  const firsts = new Map(records.map((r) => [r.topic, r] as const));
  for (const [topic, r] of firsts) await client.send({ topic, records: [{ ...r }] });
  (globalThis as { gc?: () => void }).gc?.();
  const rssBase = process.memoryUsage.rss();
  let rssMax = rssBase;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 20);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let acked = 0;
  await sendLikeTheSink(batches, DEFAULT_KAFKA_MAX_IN_FLIGHT, async (b) => {
    const n = await client.send(b);
    acked += n;
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  rssMax = Math.max(rssMax, process.memoryUsage.rss());
  await client.close();
  let valueBytes = 0;
  for (const r of records) valueBytes += typeof r.value === 'string' ? r.value.length : r.value.byteLength;
  return {
    records: records.length,
    events: records.reduce((n, r) => n + r.events, 0),
    warmup: firsts.size,
    acked,
    cpuUs: cpu.user + cpu.system,
    wallMs,
    rssBaseMb: mb(rssBase),
    rssMaxMb: mb(rssMax),
    valueBytes: Math.round(valueBytes / records.length),
    settings: client.settings,
  };
}

function childMain(): void {
  const spec = JSON.parse(process.argv[3] ?? '{}') as RunSpec;
  childRun(spec)
    .then((r) => {
      console.log(JSON.stringify(r));
      // librdkafka's threads and kafkajs's timers are gone after close(); exit regardless.
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}

function runChild(spec: RunSpec, nodeFlags: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeFlags, '--expose-gc', __filename, '--child', JSON.stringify(spec)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as RunResult);
      else
        reject(
          new Error(
            `${spec.client} ${spec.codec} ${spec.encoding} exited ${code}: ${(err || out).trim().slice(-800)}`,
          ),
        );
    });
  });
}

/** Records in the cluster's log, summed over every partition of the topics (high − low watermark). */
async function recordsInLog(brokers: string[], topics: readonly string[]): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'bench-count', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    let n = 0;
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
    return n;
  } finally {
    await admin.disconnect();
  }
}

/** The module path of @confluentinc/kafka-javascript, or why there is none. */
function rdkafkaModule(): { path?: string; why?: string } {
  const given = process.env.PODTRACE_BENCH_RDKAFKA || undefined;
  try {
    return { path: require.resolve(given ?? '@confluentinc/kafka-javascript') };
  } catch (err) {
    return {
      why:
        given === undefined
          ? 'PODTRACE_BENCH_RDKAFKA is not set and @confluentinc/kafka-javascript is not resolvable from here (it is not a podtrace dependency: install it outside the repo, BENCHMARKS.md)'
          : `PODTRACE_BENCH_RDKAFKA=${given} cannot be loaded: ${(err as Error).message.split('\n')[0]}`,
    };
  }
}

const list = <T extends string>(name: string, fallback: readonly T[]): T[] =>
  (process.env[name]?.split(',').filter(Boolean) as T[] | undefined) ?? [...fallback];

function nodeFlags(): string[] {
  const v = process.env.BENCH_NODE_FLAGS ?? 'image';
  const flags = v === 'image' ? imageNodeOptions() : v === 'default' ? '' : v;
  return flags.split(' ').filter(Boolean);
}

async function main(): Promise<void> {
  const missing = kafkaMockMissing();
  if (missing !== null) throw new Error(missing);
  const rd = rdkafkaModule();
  let clients = list<BenchClientName>('BENCH_KAFKA_CLIENTS', BENCH_CLIENTS);
  if (rd.path === undefined) {
    console.log(`kafka-client bench: confluent clients skipped: ${rd.why}`);
    clients = clients.filter((c) => c === 'kafkajs');
  }
  const codecs = list<BenchCodec>('BENCH_KAFKA_CODECS', ['zstd', 'gzip']);
  const encodings = list<BenchEncoding>('BENCH_KAFKA_ENCODINGS', ['json', 'otlp_proto']);
  const events = Number(process.env.BENCH_KAFKA_EVENTS ?? 100_000);
  const reps = Number(process.env.BENCH_REPS ?? 3);
  const lingerMs = Number(process.env.BENCH_LINGER_MS ?? 5);
  const queueKbytes = Number(process.env.BENCH_QUEUE_KBYTES ?? 65536);
  const rdkafkaIdempotent = process.env.BENCH_RDKAFKA_IDEMPOTENT !== 'false';
  const flags = nodeFlags();
  const topics = [...new Set([...topicsByKind(DEFAULT_KAFKA_TOPIC_PREFIX, {}), DEFAULT_KAFKA_OTLP_TOPIC])];
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  console.log(
    `kafka-client bench @ ${commit}: ${events} events, batches of ${DEFAULT_KAFKA_BATCH_MAX_RECORDS} records per topic, ${DEFAULT_KAFKA_MAX_IN_FLIGHT} topics in flight, node ${process.version} ${flags.join(' ') || '(default flags)'}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const runs = new Map<string, RunResult[]>();
  const settings = new Map<string, string>();
  for (let rep = 0; rep < reps; rep++)
    for (const codec of codecs)
      for (const encoding of encodings)
        for (const client of rep % 2 === 0 ? clients : [...clients].reverse()) {
          const mock = await KafkaMock.start({ topics: topics.map((t) => `${t}:3:3`) });
          try {
            const spec: RunSpec = {
              client,
              codec,
              encoding,
              events,
              brokers: mock.brokers,
              lingerMs,
              queueKbytes,
              rdkafkaIdempotent,
              ...(rd.path !== undefined ? { rdkafkaModule: rd.path } : {}),
            };
            const r = await runChild(spec, flags);
            const inLog = await recordsInLog(mock.brokers, topics);
            if (r.acked !== r.records || inLog !== r.records + r.warmup)
              throw new Error(
                `${client} ${codec} ${encoding}: ${r.acked} of ${r.records} acknowledged, ${inLog} in the log (expected ${r.records + r.warmup} with the warm-up)`,
              );
            const key = `${client}|${codec}|${encoding}`;
            runs.set(key, [...(runs.get(key) ?? []), r]);
            settings.set(`${client} ${codec}`, r.settings);
            console.log(
              `  ${key} rep ${rep + 1}: ${(r.cpuUs / r.records).toFixed(2)} µs/record, ${Math.round(r.records / (r.wallMs / 1000))} records/s, RSS ${r.rssBaseMb}→${r.rssMaxMb} MB, ${inLog} in the log`,
            );
          } finally {
            await mock.stop();
          }
        }
  const rows = [...runs].map(([key, rs]) => {
    const [client, codec, encoding] = key.split('|');
    const r0 = rs[0]!;
    return {
      client,
      codec,
      encoding,
      records: r0.records,
      'value B': r0.valueBytes,
      'µs/record': Number(median(rs.map((r) => r.cpuUs / r.records)).toFixed(2)),
      'µs/event': Number(median(rs.map((r) => r.cpuUs / r.events)).toFixed(2)),
      'records/s': Math.round(median(rs.map((r) => r.records / (r.wallMs / 1000)))),
      'RSS base MB': median(rs.map((r) => r.rssBaseMb)),
      'RSS max MB': median(rs.map((r) => r.rssMaxMb)),
      acked: rs.every((r) => r.acked === r.records) ? 'all' : 'NO',
      runs: rs.map((r) => (r.cpuUs / r.records).toFixed(1)).join(' / '),
    };
  });
  console.log(
    `medians of ${reps} runs; load at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.table(rows);
  for (const [client, s] of settings) console.log(`  ${client}: ${s}`);
}

if (require.main === module) {
  if (process.argv[2] === '--child') childMain();
  else
    main().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
