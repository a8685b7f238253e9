import { kafkaRecordCodec } from '../../../src/sinks/kafka/kafka-record-codec';

describe('kafkaRecordCodec', () => {
  describe('.decode', () => {
    it('reads back a json event record without headers as one without headers', () => {
      const codec = kafkaRecordCodec();
      const r = { topic: 'podtrace.tcp', key: 'uid-1', value: '{"event.seq":7}', events: 1 };
      const back = codec.decode(Buffer.from(codec.encode(r)));
      expect(back).toEqual(r);
      expect('headers' in back).toBe(false);
    });

    it('reads back an otlp record with its headers and bytes', () => {
      const codec = kafkaRecordCodec();
      const headers = Object.freeze({ 'content-type': 'application/x-protobuf' });
      const r = { topic: 'otlp_spans', key: 'node-a', value: Buffer.from([1, 2, 3]), headers, events: 500 };
      const back = codec.decode(Buffer.from(codec.encode(r)));
      expect(back).toEqual(r);
    });
  });
});
