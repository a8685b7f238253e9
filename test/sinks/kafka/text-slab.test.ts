import { TextSlab } from '../../../src/sinks/kafka/text-slab';

describe('TextSlab', () => {
  describe('.bytes', () => {
    it('writes each text as its UTF-8 bytes, multi-byte characters and invalid surrogates included', () => {
      const slab = new TextSlab();
      const texts = [
        '{"a":1}',
        '{"argv":["ls","-l","/tmp/ünïcødé"]}',
        '🚀 rocket',
        'lone \ud800 surrogate',
        '',
      ];
      const out = texts.map((t) => slab.bytes(t));
      out.forEach((b, i) => expect(b.equals(Buffer.from(texts[i]!, 'utf8'))).toBe(true));
    });

    it('keeps values written before it opens a new slab intact, across many slabs', () => {
      const slab = new TextSlab();
      const texts = Array.from(
        { length: 5000 },
        (_, i) => `{"event.seq":${i},"pad":"${'é'.repeat(i % 300)}"}`,
      );
      const out = texts.map((t) => slab.bytes(t));
      // Written after all of them: a later write never overwrites an earlier value.
      out.forEach((b, i) => expect(b.toString('utf8')).toBe(texts[i]));
      expect(new Set(out.map((b) => b.buffer)).size).toBeGreaterThan(10);
    });

    it('gives a value too large for a slab a buffer of its own', () => {
      const slab = new TextSlab();
      const small = slab.bytes('x');
      const big = 'y'.repeat(200_000);
      const b = slab.bytes(big);
      expect(b.length).toBe(200_000);
      expect(b.toString()).toBe(big);
      expect(b.buffer).not.toBe(small.buffer);
      expect(slab.bytes('z').buffer).toBe(small.buffer);
    });
  });
});
