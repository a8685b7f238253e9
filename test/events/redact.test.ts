import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { DEFAULT_REDACT_PATTERNS, REDACTED, Redactor } from '../../src/events/redact';
import { agentRedactor } from '../../src/events/redact-config';
import { execRecord } from '../helpers/records';

const R = REDACTED;

describe('Redactor', () => {
  describe('.args (defaults)', () => {
    const redactor = new Redactor(DEFAULT_REDACT_PATTERNS);
    it.each<[string[], string[]]>([
      [
        ['psql', '--password', 'pw1'],
        ['psql', '--password', R],
      ],
      [
        ['tool', '--PASSWORD=pw1'],
        ['tool', `--PASSWORD=${R}`],
      ],
      [
        ['curl', '--token', 't0k'],
        ['curl', '--token', R],
      ],
      [
        ['cli', '--api-key', 'k1'],
        ['cli', '--api-key', R],
      ],
      [
        ['cli', '--api-key=k1'],
        ['cli', `--api-key=${R}`],
      ],
      [
        ['env', 'PGPASSWORD=pw1', 'psql'],
        ['env', `PGPASSWORD=${R}`, 'psql'],
      ],
      [
        ['env', 'TOKEN=t0k'],
        ['env', `TOKEN=${R}`],
      ],
      [
        ['env', 'github_token=t0k'],
        ['env', `github_token=${R}`],
      ],
      [
        ['env', 'AWS_SECRET_ACCESS_KEY=s1'],
        ['env', `AWS_SECRET_ACCESS_KEY=${R}`],
      ],
      [
        ['env', 'API_KEY=k1'],
        ['env', `API_KEY=${R}`],
      ],
      [
        ['sh', '-c', 'PGPASSWORD=pw1 psql -h db --password pw2'],
        ['sh', '-c', `PGPASSWORD=${R} psql -h db --password ${R}`],
      ],
      [
        ['curl', '-H', 'Authorization: Bearer t0k', 'http://svc'],
        ['curl', '-H', `Authorization: ${R}`, 'http://svc'],
      ],
      [
        ['curl', '-H', 'cookie: session=abc'],
        ['curl', '-H', `cookie: ${R}`],
      ],
      [
        ['sh', '-c', "curl -H 'AUTHORIZATION: Basic dTpw' http://svc"],
        ['sh', '-c', `curl -H 'AUTHORIZATION: ${R}' http://svc`],
      ],
      [
        ['git', 'clone', 'https://user:pw1@git.example/repo'],
        ['git', 'clone', `https://user:${R}@git.example/repo`],
      ],
      [
        ['psql', 'postgres://app:pw1@db:5432/x'],
        ['psql', `postgres://app:${R}@db:5432/x`],
      ],
    ])('redacts %j', (input, expected) => {
      expect(redactor.args(input)).toEqual(expected);
      // Idempotent: redacting twice changes nothing more.
      expect(redactor.args(redactor.args(input))).toEqual(expected);
    });

    it.each<[string[]]>([
      [['ls', '-la', '/tmp']],
      [['curl', 'https://git.example/repo', '-H', 'Accept: */*']],
      [['ssh', 'user@host']],
      [['--password']],
    ])('keeps %j (the same array)', (input) => {
      expect(redactor.args(input)).toBe(input);
    });
  });

  describe('.constructor', () => {
    it('refuses a pattern of none of the four shapes', () => {
      expect(() => new Redactor(['password'])).toThrow('redact pattern "password"');
    });

    it('redacts nothing with no patterns', () => {
      const args = ['psql', '--password', 'pw1'];
      expect(new Redactor([]).args(args)).toBe(args);
    });
  });
});

describe('agentRedactor', () => {
  it('adds the deprecated sinks.otlp.redact patterns to redact.patterns, with a warning', () => {
    const warnings: string[] = [];
    const r = agentRedactor(
      { redact: { patterns: ['--password'] }, sinks: { otlp: { redact: ['--db-pass'] } } },
      (m) => warnings.push(m),
    );
    expect(r.args(['x', '--password', 'a', '--db-pass', 'b'])).toEqual([
      'x',
      '--password',
      R,
      '--db-pass',
      R,
    ]);
    expect(warnings).toEqual([expect.stringContaining('sinks.otlp.redact is deprecated')]);
  });

  it('warns about nothing without the old key', () => {
    const warnings: string[] = [];
    agentRedactor({ redact: { patterns: [] }, sinks: { otlp: {} } }, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });
});

describe('RecordDecoder', () => {
  describe('.decode (redactor)', () => {
    it('redacts exec argv as it decodes, before any stage sees the event', () => {
      const decoder = new RecordDecoder(new BootClock(() => 0), new Redactor(DEFAULT_REDACT_PATTERNS));
      const out: PodtraceEvent[] = [];
      decoder.decode(
        execRecord(
          { pid: 1 },
          {
            ppid: 0,
            uid: 0,
            parentStartNs: 0,
            filename: '/usr/bin/mysql',
            argv: ['mysql', '--password', 'pw1'],
          },
        ),
        out,
      );
      expect(out[0]).toMatchObject({ args: ['mysql', '--password', R] });
    });
  });
});
