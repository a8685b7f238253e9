import { UsageError, parseRunArgs } from '../../src/cli/args';

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
  ])('rejects %j with a message naming the value', (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(UsageError);
    expect(() => parseRunArgs(argv)).toThrow(message);
  });
});
