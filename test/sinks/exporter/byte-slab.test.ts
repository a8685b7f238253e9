import { ByteSlab } from '../../../src/sinks/exporter/byte-slab';

describe('ByteSlab', () => {
  describe('.utf8', () => {
    it('writes each text as its UTF-8 bytes, multi-byte characters and invalid surrogates included', () => {
      const slab = new ByteSlab(64 * 1024);
      const texts = [
        '{"a":1}',
        '{"argv":["ls","-l","/tmp/ünïcødé"]}',
        '🚀 rocket',
        'lone \ud800 surrogate',
        '',
      ];
      const out = texts.map((t) => slab.utf8(t));
      out.forEach((b, i) => expect(b.equals(Buffer.from(texts[i]!, 'utf8'))).toBe(true));
    });

    it('keeps values written before it opens a new slab intact, across many slabs', () => {
      const slab = new ByteSlab(64 * 1024);
      const texts = Array.from(
        { length: 5000 },
        (_, i) => `{"event.seq":${i},"pad":"${'é'.repeat(i % 300)}"}`,
      );
      const out = texts.map((t) => slab.utf8(t));
      // Written after all of them: a later write never overwrites an earlier value.
      out.forEach((b, i) => expect(b.toString('utf8')).toBe(texts[i]));
      expect(new Set(out.map((b) => b.buffer)).size).toBeGreaterThan(10);
    });

    it('gives a value too large for a slab a buffer of its own', () => {
      const slab = new ByteSlab(64 * 1024);
      const small = slab.utf8('x');
      const big = 'y'.repeat(200_000);
      const b = slab.utf8(big);
      expect(b.length).toBe(200_000);
      expect(b.toString()).toBe(big);
      expect(b.buffer).not.toBe(small.buffer);
      expect(slab.utf8('z').buffer).toBe(small.buffer);
    });
  });

  describe('.copy', () => {
    it('copies small and oversized ranges, neither changed when the source is written again', () => {
      const slab = new ByteSlab(1024);
      const src = Buffer.alloc(4096, 1);
      const small = slab.copy(src, 10, 20);
      const big = slab.copy(src, 0, 1000);
      src.fill(9);
      expect([...small]).toEqual(new Array(10).fill(1));
      expect(big.length).toBe(1000);
      expect(big.every((b) => b === 1)).toBe(true);
      expect(big.buffer).not.toBe(src.buffer);
    });
  });
});
