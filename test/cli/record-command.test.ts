import { UsageError } from '../../src/cli/args';
import { parseDuration, parseRecordArgs } from '../../src/cli/record-command';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['3', 3000],
    ['1.5s', 1500],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'ten', '10x', '-1s', '0s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('parseRecordArgs', () => {
  it('reads out, duration and probes', () => {
    expect(parseRecordArgs(['--out', 'a.ptrec', '--duration=2s', '--probes', 'process,tcp,process'])).toEqual(
      {
        out: 'a.ptrec',
        durationMs: 2000,
        probes: ['process', 'tcp'],
      },
    );
  });

  it('requires --out', () => {
    expect(() => parseRecordArgs(['--duration', '1s'])).toThrow(/--out FILE is required/);
  });

  it('names the bad flag value', () => {
    expect(() => parseRecordArgs(['--out', 'x', '--duration', 'soon'])).toThrow(UsageError);
    expect(() => parseRecordArgs(['--out', 'x', '--duration', 'soon'])).toThrow(/--duration: "soon"/);
    expect(() => parseRecordArgs(['--out', 'x', '--probes', 'udp'])).toThrow(
      /--probes: "udp" is not a probe group/,
    );
  });
});
