import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger';
import { TextLogStream } from '../../src/core/log-text-stream';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  describe('.json', () => {
    it('writes one JSON object per line with level, time, name and message', () => {
      const s = sink();
      createLogger({ destination: s.stream, level: 'info', format: 'json' })
        .child({ component: 'kafka' })
        .warn({ broker: 'k1:9092' }, 'retrying');
      const rec = JSON.parse(s.text().trim());
      expect(rec).toMatchObject({
        level: 40,
        name: 'podtrace',
        component: 'kafka',
        broker: 'k1:9092',
        msg: 'retrying',
      });
      expect(rec.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    });

    it('writes each binding once when a child rebinds a key of its parent', () => {
      const s = sink();
      const kafka = createLogger({ destination: s.stream, level: 'info', format: 'json' }).child({
        component: 'kafka',
      });
      kafka.child({ component: 'kafka' }).info('a');
      kafka.child({ component: 'kafkajs', broker: 'k1' }).child({ broker: 'k2' }).info('b');
      const [a, b] = s.text().trim().split('\n');
      expect(a?.match(/"component"/g)).toHaveLength(1);
      expect(b?.match(/"component"/g)).toHaveLength(1);
      expect(b?.match(/"broker"/g)).toHaveLength(1);
      expect(b?.match(/"name"/g)).toHaveLength(1);
      expect(JSON.parse(b ?? '')).toMatchObject({ name: 'podtrace', component: 'kafkajs', broker: 'k2' });
    });

    it('drops records below the level', () => {
      const s = sink();
      createLogger({ destination: s.stream, level: 'warn', format: 'json' }).info('hidden');
      expect(s.text()).toBe('');
    });

    it('never writes known secret paths', () => {
      const s = sink();
      const log = createLogger({ destination: s.stream, level: 'info', format: 'json' });
      log.info({ sasl: { username: 'pt', password: 'pw1' } }, 'a');
      log.info({ headers: { authorization: 'Bearer t0k' } }, 'b');
      log.info(
        { config: { sinks: { kafka: { sasl: { password: 'pw2' } }, otlp: { headers: { 'x-key': 'h1' } } } } },
        'c',
      );
      log.info({ password: 'pw3', token: 'tk' }, 'd');
      const out = s.text();
      for (const secret of ['pw1', 't0k', 'pw2', 'h1', 'pw3', '"tk"']) expect(out).not.toContain(secret);
      expect(out).toContain('"username":"pt"');
      expect(out.match(/\*\*\*/g)?.length).toBe(6);
    });

    it('writes JSON to a non-terminal destination in auto format', () => {
      const s = sink();
      createLogger({ destination: s.stream, level: 'info' }).info('x');
      expect(JSON.parse(s.text())).toMatchObject({ msg: 'x' });
    });
  });

  describe('.text', () => {
    it('writes text to a terminal destination in auto format', () => {
      const s = sink();
      Object.assign(s.stream, { isTTY: true });
      createLogger({ destination: s.stream, level: 'info' }).info('to a person');
      expect(s.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}to a person\n$/);
    });

    it('writes readable lines when asked for text', () => {
      const s = sink();
      createLogger({ destination: s.stream, level: 'info', format: 'text' })
        .child({ component: 'otlp' })
        .error({ attempt: 3 }, 'export failed');
      expect(s.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR \[otlp\] export failed attempt=3\n$/);
    });
  });
});

describe('TextLogStream', () => {
  describe('.format', () => {
    it('quotes values with spaces and prints objects as JSON', () => {
      const line = JSON.stringify({
        level: 30,
        time: '2025-01-02T03:04:05.678Z',
        msg: 'hi',
        a: 'two words',
        b: { c: 1 },
        n: 2,
      });
      expect(TextLogStream.format(line)).toBe('03:04:05.678 INFO  hi a="two words" b={"c":1} n=2\n');
    });

    it('prints the stack of an err field indented under the line', () => {
      const line = JSON.stringify({
        level: 50,
        time: 't',
        msg: 'boom',
        err: { message: 'bad', stack: 'Error: bad\n    at f (x.ts:1)' },
      });
      expect(TextLogStream.format(line)).toBe('t ERROR boom\n    Error: bad\n        at f (x.ts:1)\n');
    });

    it('passes through what is not a JSON object', () => {
      expect(TextLogStream.format('plain\n')).toBe('plain\n');
      expect(TextLogStream.format('[1,2]')).toBe('[1,2]');
    });
  });
});
