import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Message, PartitionMetadata, PartitionerArgs } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { packageRoot } from '../../../src/native/native-addon';
import { groupMessagesPerPartition } from '../../../src/sinks/kafka/kafkajs-grouping';
import type { EncodedRecord, RecordArgs, RecordEncoder } from '../../../src/sinks/kafka/kafkajs-record';
import { leanRecordEncoder } from '../../../src/sinks/kafka/kafkajs-record';
import { missingBuiltCli } from '../../helpers/built-agent';
import { KafkaMock, kafkaMockMissing, kcatMissing, kcatRead } from '../../helpers/kafka-mock';
import { describeIf } from '../../helpers/prereq';

// Jest has a module registry of its own, so here kafkajs keeps its own grouping: the reference.
const kafkajsGrouping = jest.requireActual<typeof groupMessagesPerPartition>(
  'kafkajs/src/producer/groupMessagesPerPartition',
);

const kafkajsRecord = jest.requireActual<RecordEncoder>('kafkajs/src/protocol/recordBatch/record/v0');
const KafkajsEncoder = jest.requireActual<{ prototype: object }>('kafkajs/src/protocol/encoder');
const bytesOf = (e: EncodedRecord): Buffer => (e as unknown as { buffer: Buffer }).buffer;

const BUILT_KAFKAJS = join(packageRoot(), 'dist', 'src', 'sinks', 'kafka', 'kafkajs.js');

function metadata(partitions: number): PartitionMetadata[] {
  return Array.from({ length: partitions }, (_, i) => ({
    partitionErrorCode: 0,
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
}

/**
 * A partitioner that records what it was asked, in order: kafkajs's for keyed records, a counter
 * for unkeyed ones (kafkajs's round-robin starts at a random partition).
 */
function recording(): { partitioner: (a: PartitionerArgs) => number; seen: string[] } {
  const inner = Partitioners.DefaultPartitioner();
  const seen: string[] = [];
  let next = 0;
  return {
    seen,
    partitioner: (a) => {
      seen.push(`${a.topic}/${String(a.message.key)}/${a.partitionMetadata.length}`);
      return a.message.key === null ? next++ % a.partitionMetadata.length : inner(a);
    },
  };
}

/** Runs a script in a plain node process (Node's own module cache, as the agent has). */
function node(script: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['-e', script, ...args], {
    encoding: 'utf8',
    cwd: packageRoot(),
    timeout: 60_000,
  }).trim();
}

describe('groupMessagesPerPartition', () => {
  it('returns {} and never calls the partitioner when the topic has no partition metadata', () => {
    const r = recording();
    const messages: Message[] = [{ key: 'a', value: 'x' }];
    expect(
      groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: r.partitioner }),
    ).toEqual({});
    expect(r.seen).toEqual([]);
  });

  it.each([1, 3, 7])(
    'groups as kafkajs does over %i partitions, calling the partitioner alike',
    (partitions) => {
      const messages: Message[] = Array.from({ length: 2500 }, (_, i) => ({
        key: i % 11 === 0 ? null : `pod-${i % 37}`,
        value: `v${i}`,
      }));
      const partitionMetadata = metadata(partitions);
      const ours = recording();
      const theirs = recording();
      const got = groupMessagesPerPartition({
        topic: 't',
        partitionMetadata,
        messages,
        partitioner: ours.partitioner,
      });
      const want = kafkajsGrouping({
        topic: 't',
        partitionMetadata,
        messages,
        partitioner: theirs.partitioner,
      });
      expect(Object.keys(got)).toEqual(Object.keys(want));
      for (const p of Object.keys(want)) {
        const g = got[Number(p)]!;
        const w = want[Number(p)]!;
        expect(g.length).toBe(w.length);
        // The same message objects, in the same order.
        for (let i = 0; i < w.length; i++) expect(g[i]).toBe(w[i]);
      }
      expect(ours.seen).toEqual(theirs.seen);
      expect(ours.seen).toHaveLength(messages.length);
    },
  );
});

describe('leanRecordEncoder', () => {
  const fallbackCalls: RecordArgs[] = [];
  const lean = leanRecordEncoder((a) => {
    fallbackCalls.push(a);
    return kafkajsRecord(a);
  }, KafkajsEncoder.prototype);
  beforeEach(() => (fallbackCalls.length = 0));

  it('hands records with headers, odd values or deltas past ±2^30 to kafkajs, which encodes them', () => {
    const odd: RecordArgs[] = [
      { key: 'k', value: 'v', headers: { 'content-type': 'application/x-protobuf' } },
      { key: 'k', value: 'v', timestampDelta: 2 ** 31 },
      { key: 'k', value: 'v', timestampDelta: -(2 ** 40) },
      { key: 'k', value: 'v', offsetDelta: 2 ** 30 },
    ];
    for (const a of odd) expect(bytesOf(lean(a))).toEqual(bytesOf(kafkajsRecord(a)));
    expect(fallbackCalls).toHaveLength(odd.length);
  });

  it('writes the bytes kafkajs writes, without kafkajs, for keys and values of every plain kind', () => {
    const long = 'x'.repeat(700);
    const cases: RecordArgs[] = [
      { key: 'pod-uid', value: `{"event.name":"tcp.connect","a":"${long}"}` },
      { key: null, value: null },
      { key: undefined, value: '' },
      { key: '', value: 'é→𝄞 multi-byte ✓' },
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(20_000, 7) },
      { key: 'k', value: 'v', headers: {} },
      { key: 'k', value: 'v', offsetDelta: 1999, timestampDelta: 0 },
      { key: 'k', value: 'v', offsetDelta: 63, timestampDelta: 64 },
      { key: 'k', value: 'v', offsetDelta: 2 ** 30 - 1, timestampDelta: -(2 ** 30) + 1 },
      { key: 'k', value: 'v', timestampDelta: -1 },
      { value: 'no key, defaults' },
    ];
    for (const a of cases) {
      const got = lean(a);
      expect(bytesOf(got)).toEqual(bytesOf(kafkajsRecord(a)));
      expect(got.offset).toBe(got.buf.length);
    }
    expect(fallbackCalls).toEqual([]);
  });
});

describeIf(missingBuiltCli())('installKafkajsOverrides (built, in a plain node process)', () => {
  it('leaves kafkajs its own grouping when kafkajs was loaded first, and says so', () => {
    const out = node(
      `require('kafkajs');
       const m = require(process.argv[1]);
       const g = require('kafkajs/src/producer/groupMessagesPerPartition');
       const r = require('kafkajs/src/protocol/recordBatch/record/v0');
       const ours = require(process.argv[1].replace(/kafkajs\\.js$/, 'kafkajs-grouping.js')).groupMessagesPerPartition;
       console.log(JSON.stringify({ overrides: m.kafkajsOverrides, grouping: g === ours, record: r.name }));`,
      BUILT_KAFKAJS,
    );
    // kafkajs's own record encoder is an anonymous arrow function; the lean one is encodeRecord.
    expect(JSON.parse(out)).toEqual({ overrides: 'already-loaded', grouping: false, record: '' });
  });

  it("puts the linear grouping and the lean record encoder where kafkajs's producer loads them from", () => {
    const out = node(
      `const m = require(process.argv[1]);
       const g = require('kafkajs/src/producer/groupMessagesPerPartition');
       const r = require('kafkajs/src/protocol/recordBatch/record/v0');
       const ours = require(process.argv[1].replace(/kafkajs\\.js$/, 'kafkajs-grouping.js')).groupMessagesPerPartition;
       console.log(JSON.stringify({ overrides: m.kafkajsOverrides, grouping: g === ours, record: r.name }));`,
      BUILT_KAFKAJS,
    );
    expect(JSON.parse(out)).toEqual({ overrides: 'installed', grouping: true, record: 'encodeRecord' });
  });
});

describeIf(missingBuiltCli() ?? kafkaMockMissing() ?? kcatMissing())(
  'kafkajs sendBatch with the overrides (built, real Kafka protocol)',
  () => {
    let mock: KafkaMock;
    beforeAll(async () => {
      mock = await KafkaMock.start({ brokers: 3, topics: ['grouped:3:3'] });
    });
    afterAll(() => mock.stop());

    it('delivers every record of a 3,000-record batch to the partition of its key, in order', () => {
      const out = node(
        `const { Kafka, Partitioners, logLevel, kafkajsOverrides } = require(process.argv[1]);
         (async () => {
           const kafka = new Kafka({ brokers: process.argv[2].split(','), clientId: 'grouping-test', logLevel: logLevel.NOTHING });
           const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
           await p.connect();
           const messages = Array.from({ length: 3000 }, (_, i) => ({ key: 'pod-' + (i % 17), value: String(i) }));
           const acks = await p.sendBatch({ topicMessages: [{ topic: 'grouped', messages }], acks: -1 });
           await p.disconnect();
           console.log(JSON.stringify({ kafkajsOverrides, acked: acks.map((a) => a.errorCode).sort() }));
         })().catch((e) => { console.error(e); process.exit(1); });`,
        BUILT_KAFKAJS,
        mock.bootstrap,
      );
      const result = JSON.parse(out) as { kafkajsOverrides: string; acked: number[] };
      expect(result.kafkajsOverrides).toBe('installed');
      expect(result.acked.every((c) => c === 0)).toBe(true);
      const records = kcatRead(mock.bootstrap, 'grouped');
      expect(records).toHaveLength(3000);
      const reference = Partitioners.DefaultPartitioner();
      const meta = metadata(3);
      const lastByKey = new Map<string, number>();
      for (const r of records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
        const key = r.key!;
        expect(r.partition).toBe(
          reference({ topic: 'grouped', partitionMetadata: meta, message: { key, value: '' } }),
        );
        // Within a key (one partition), the values keep the order they were sent in.
        const v = Number(r.payload);
        expect(v).toBeGreaterThan(lastByKey.get(key) ?? -1);
        lastByKey.set(key, v);
      }
      expect(new Set(records.map((r) => r.payload)).size).toBe(3000);
    });
  },
);
