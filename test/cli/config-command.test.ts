import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  runConfigPrint,
  runConfigValidate,
  resolveConfigPath,
  parseSetFlag,
} from '../../src/cli/config-command';

const FIXTURES = join(__dirname, '..', 'fixtures', 'bad-config');
const REPO = join(__dirname, '..', '..');

function capture(env: NodeJS.ProcessEnv = {}, cwd = REPO) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env, cwd },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'podtrace-cli-'));
}

describe('runConfigPrint', () => {
  describe('.output', () => {
    it('prints the effective configuration as YAML with environment values applied', () => {
      const c = capture({ PODTRACE_LOG_LEVEL: 'debug', NODE_NAME: 'node-a' });
      expect(runConfigPrint(['--config', 'config/podtrace.yaml'], c.io)).toBe(0);
      const printed = parse(c.out());
      expect(printed.telemetry.log.level).toBe('debug');
      expect(printed.nodeName).toBe('node-a');
      expect(c.out()).toMatch(
        /^# effective configuration: defaults < .*config\/podtrace\.yaml < environment \(NODE_NAME, PODTRACE_LOG_LEVEL\); secrets masked\n/,
      );
    });

    it('masks secrets', () => {
      const dir = tempDir();
      writeFileSync(
        join(dir, 'p.yaml'),
        'sinks:\n  kafka:\n    tls:\n      cert: /etc/c.pem\n      key: s3cret\n  otlp:\n    headers:\n      authorization: Bearer x\n',
      );
      const c = capture({}, dir);
      expect(runConfigPrint(['--config', 'p.yaml'], c.io)).toBe(0);
      expect(c.out()).not.toContain('s3cret');
      expect(c.out()).not.toContain('Bearer x');
      expect(parse(c.out()).sinks.kafka.tls).toEqual({ cert: '/etc/c.pem', key: '***' });
    });

    it('applies --set over the environment', () => {
      const c = capture({ PODTRACE_LOG_LEVEL: 'debug' });
      expect(
        runConfigPrint(['--set', 'telemetry.log.level=warn', '--set', 'source.ebpf.probes=[tcp]'], c.io),
      ).toBe(0);
      const printed = parse(c.out());
      expect(printed.telemetry.log.level).toBe('warn');
      expect(printed.source.ebpf.probes).toEqual(['tcp']);
    });

    it('reads config/podtrace.yaml from the working directory when --config is absent', () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'config'));
      writeFileSync(join(dir, 'config', 'podtrace.yaml'), 'shutdown:\n  timeoutMs: 1234\n');
      const c = capture({}, dir);
      expect(runConfigPrint([], c.io)).toBe(0);
      expect(parse(c.out()).shutdown.timeoutMs).toBe(1234);
    });
  });

  describe('.errors', () => {
    it('exits 1 listing every problem with its key and value', () => {
      const c = capture();
      expect(runConfigPrint(['--config', join(FIXTURES, 'many-problems.yaml')], c.io)).toBe(1);
      expect(c.err()).toContain('4 problems');
      expect(c.err()).toContain('  shutdown.timeoutMs: -5 must be >= 0\n');
      expect(c.err()).toContain('  bogus: unknown key (value 1)\n');
      expect(c.out()).toBe('');
    });

    it('exits 2 on an unknown option', () => {
      const c = capture();
      expect(runConfigPrint(['--bogus'], c.io)).toBe(2);
      expect(c.err()).toContain('usage: podtrace config print');
    });

    it('exits 1 on a malformed --set', () => {
      const c = capture();
      expect(runConfigPrint(['--set', 'novalue'], c.io)).toBe(1);
      expect(c.err()).toContain('--set "novalue": expected key.path=value');
    });
  });
});

describe('runConfigValidate', () => {
  describe('.exit code', () => {
    it('exits 0 for the shipped config file', () => {
      const c = capture();
      expect(runConfigValidate(['config/podtrace.yaml'], c.io)).toBe(0);
      expect(c.out()).toBe('config/podtrace.yaml: valid\n');
    });

    it('exits 1 and lists every problem for a bad file', () => {
      const c = capture();
      const file = join(FIXTURES, 'many-problems.yaml');
      expect(runConfigValidate([file], c.io)).toBe(1);
      expect(c.err().split('\n')).toEqual([
        `${file}: 4 problems`,
        '  bogus: unknown key (value 1)',
        '  source.ebpf.wakeupPercent: 0 must be >= 1',
        '  sinks.console.format: "xml" is not one of "text", "json"',
        '  shutdown.timeoutMs: -5 must be >= 0',
        '',
      ]);
    });

    it('ignores the environment: it judges the file alone', () => {
      const c = capture({ PODTRACE_LOG_LEVEL: 'loud' });
      expect(runConfigValidate(['config/podtrace.yaml'], c.io)).toBe(0);
    });

    it('exits 1 for a missing file', () => {
      const c = capture();
      expect(runConfigValidate(['/nonexistent.yaml'], c.io)).toBe(1);
      expect(c.err()).toContain('config file /nonexistent.yaml: does not exist');
    });

    it('exits 2 without a file or with two', () => {
      expect(runConfigValidate([], capture().io)).toBe(2);
      expect(runConfigValidate(['a.yaml', 'b.yaml'], capture().io)).toBe(2);
    });
  });
});

describe('resolveConfigPath', () => {
  it('returns undefined when there is no flag and no default file', () => {
    expect(resolveConfigPath(undefined, tempDir())).toBeUndefined();
  });

  it('resolves the flag against the working directory even when the file is missing', () => {
    expect(resolveConfigPath('x.yaml', '/tmp')).toBe('/tmp/x.yaml');
  });
});

describe('parseSetFlag', () => {
  it('reads the value as YAML', () => {
    expect(parseSetFlag('a.b=42')).toEqual({ key: 'a.b', value: 42, origin: '--set a.b' });
    expect(parseSetFlag('a.b=[x, y]').value).toEqual(['x', 'y']);
    expect(parseSetFlag('a.b=').value).toBe('');
  });
});
