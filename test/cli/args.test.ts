import { UsageError, parseRunArgs } from '../../src/cli/args';
import { runOverrides } from '../../src/cli/run-command';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/core/errors';

describe('parseRunArgs', () => {
  it('parses --config, --probes and --output in both forms', () => {
    expect(parseRunArgs(['--config', 'a.yaml', '--probes=process,tcp', '--output', 'json'])).toEqual({
      config: 'a.yaml',
      probes: ['process', 'tcp'],
      output: 'json',
    });
  });

  it.each([
    [['--probes', 'process,disk'], '--probes: "disk" is not a probe group'],
    [['--output', 'yaml'], '--output: "yaml" is not text or json'],
    [['--verbose'], 'unknown flag --verbose'],
    [['--config'], '--config needs a value'],
    [['stray'], 'unexpected argument "stray"'],
    [['--set'], '--set needs key.path=value'],
  ])('rejects %j with a message naming the value', (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(UsageError);
    expect(() => parseRunArgs(argv)).toThrow(message);
  });

  it('collects repeated --set in order, in both forms', () => {
    expect(parseRunArgs(['--set', 'a.b=1', '--set=c=[x, y]', '--config', 'p.yaml'])).toEqual({
      config: 'p.yaml',
      set: ['a.b=1', 'c=[x, y]'],
    });
  });

  it('answers --help and -h whatever else is given', () => {
    expect(parseRunArgs(['--probes', 'nope', '--help'])).toEqual({ help: true });
    expect(parseRunArgs(['-h'])).toEqual({ help: true });
  });
});

describe('runOverrides', () => {
  it('applies --set values as YAML over the defaults, the dedicated flags winning', () => {
    const args = parseRunArgs([
      '--set',
      'source.ebpf.probes=[tcp]',
      '--set',
      'shutdown.timeoutMs=2500',
      '--probes',
      'oom',
    ]);
    const config = loadConfig(undefined, {}, runOverrides(args));
    expect(config.shutdown.timeoutMs).toBe(2500);
    expect(config.source.ebpf.probes).toEqual(['oom']);
  });

  it('names the --set in a rejected value, without printing a secret', () => {
    const args = parseRunArgs([
      '--set',
      'sinks.kafka.sasl.password=hunter2',
      '--set',
      'shutdown.timeoutMs=-1',
    ]);
    let problems: readonly string[] = [];
    try {
      loadConfig(undefined, {}, runOverrides(args));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems = err.problems;
    }
    expect(problems).toEqual([
      'sinks.kafka.sasl: needs exactly one of passwordFile, passwordEnv (sets none)',
      'sinks.kafka.sasl.mechanism: is required',
      'sinks.kafka.sasl.username: is required',
      'sinks.kafka.sasl.password: unknown key (value ***) (from --set sinks.kafka.sasl.password)',
      'shutdown.timeoutMs: -1 must be >= 0 (from --set shutdown.timeoutMs)',
    ]);
  });
});
