import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { CgroupChange, PodtraceEvent } from '../../src/events/event';
import { EVENT_NAMES } from '../../src/events/event-kind';
import { HEADER } from '../../src/events/layout';
import { Rng, mutate, validRecords } from '../helpers/fuzz';

const CASES = 6000;

/** Decodes one input; the decoder must never throw and must account for every input it was given. */
function check(decoder: RecordDecoder, input: Buffer): PodtraceEvent[] {
  const before = { records: decoder.stats.records, malformed: decoder.stats.malformed };
  const out: PodtraceEvent[] = [];
  const cgroups: CgroupChange[] = [];
  decoder.decode(input, out, cgroups);
  const records = decoder.stats.records - before.records;
  const malformed = decoder.stats.malformed - before.malformed;
  if (out.length + cgroups.length !== records)
    throw new Error(`${out.length} events and ${cgroups.length} cgroup changes for ${records} records`);
  // Nothing silently ignored: non-empty input is decoded or counted as malformed.
  if (input.length > 0 && records + malformed === 0)
    throw new Error(`input ignored: ${input.toString('hex')}`);
  for (const e of out) {
    if (EVENT_NAMES[e.kind] === undefined) throw new Error(`unknown kind ${e.kind} decoded`);
    if (!Number.isFinite(e.timeUnixNs) || !Number.isInteger(e.pid)) throw new Error('bad header fields');
  }
  return out;
}

describe('RecordDecoder', () => {
  describe('.decode (fuzz)', () => {
    it('decodes every valid batch of every kind with nothing malformed', () => {
      const rng = new Rng(1);
      const decoder = new RecordDecoder(new BootClock(() => 0));
      for (let i = 0; i < 40; i++) {
        const recs = validRecords(rng);
        expect(check(decoder, Buffer.concat(recs))).toHaveLength(recs.length);
      }
      expect(decoder.stats.malformed).toBe(0);
    });

    it(`never throws on ${CASES} random and mutated batches, and decodes or counts each`, () => {
      const rng = new Rng(0x5eed);
      const pool = Array.from({ length: 40 }, () => validRecords(rng));
      const decoder = new RecordDecoder(new BootClock(() => 1.7e18));
      let decoded = 0;
      let rejected = 0;
      for (let i = 0; i < CASES; i++) {
        let input: Buffer;
        if (i % 4 === 0) {
          input = rng.bytes(rng.int(2 * HEADER.size + 600));
        } else {
          const batch = Buffer.concat(rng.pick(pool).filter(() => rng.next() < 0.6));
          // Mutations aimed at the header fields that steer decoding (kind, size) half the time.
          input = mutate(rng, batch, [HEADER.kind, HEADER.recordSize]);
        }
        const before = decoder.stats.malformed;
        decoded += check(decoder, input).length;
        if (decoder.stats.malformed > before) rejected++;
      }
      // The cases exercise both outcomes, not only one.
      expect(decoded).toBeGreaterThan(CASES);
      expect(rejected).toBeGreaterThan(CASES / 4);
    });
  });
});
