import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors';
import { loadConfig, validateConfig, isHostPort, keyPath } from '../../src/config/load-config';

const FIXTURES = join(__dirname, '..', 'fixtures', 'bad-config');

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, got a valid configuration');
}

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'podtrace-config-')), 'podtrace.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  describe('.bad-config fixtures', () => {
    // Each fixture proves one rejection: the exact problem lines (key path + bad value) it yields.
    const cases: [fixture: string, problems: string[]][] = [
      [
        'unknown-top-level-key',
        ['sinkz: unknown key (value {"console":{"enabled":false}}); did you mean "sinks"?'],
      ],
      [
        'unknown-nested-key',
        ['filter.namespace: unknown key (value ["kube-system"]); did you mean "namespaces"?'],
      ],
      ['shutdown-timeout-wrong-type', ['shutdown.timeoutMs: "10s" must be integer']],
      ['shutdown-timeout-out-of-range', ['shutdown.timeoutMs: 900000 must be <= 600000']],
      ['ring-buffer-not-power-of-two', ['source.ebpf.ringBufferBytes: 100000 must be a power of two']],
      [
        'unknown-probe-group',
        [
          'source.ebpf.probes[1]: "udp" is not one of "process", "tcp", "oom", "signal", "dns", "file", "sched"',
        ],
      ],
      ['duplicate-probe-group', ['source.ebpf.probes: ["tcp","tcp"] lists "tcp" more than once']],
      ['argv-bytes-negative', ['source.ebpf.argvBytes: -1 must be >= 0']],
      ['source-kind-unknown', ['source.kind: "bpf" is not one of "ebpf", "replay", "synthetic"']],
      ['console-format-unknown', ['sinks.console.format: "yaml" is not one of "text", "json"']],
      ['console-enabled-not-boolean', ['sinks.console.enabled: "yes" must be boolean']],
      ['filter-namespaces-not-list', ['filter.namespaces: "kube-system" must be array']],
      ['telemetry-listen-not-host-port', ['telemetry.listen: "localhost" is not host:port']],
      ['telemetry-listen-port-out-of-range', ['telemetry.listen: "0.0.0.0:99999" is not host:port']],
      [
        'telemetry-log-level-unknown',
        [
          'telemetry.log.level: "verbose" is not one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
        ],
      ],
      ['not-a-mapping', ['(root): ["source","sinks"] must be a mapping of sections']],
    ];

    it.each(cases)('rejects %s naming the key and the value', (fixture, expected) => {
      expect(problemsOf(() => loadConfig(join(FIXTURES, `${fixture}.yaml`), {}))).toEqual(expected);
    });

    it('reports every problem of a file at once', () => {
      const problems = problemsOf(() => loadConfig(join(FIXTURES, 'many-problems.yaml'), {}));
      expect([...problems].sort()).toEqual(
        [
          'bogus: unknown key (value 1)',
          'source.ebpf.wakeupPercent: 0 must be >= 1',
          'sinks.console.format: "xml" is not one of "text", "json"',
          'shutdown.timeoutMs: -5 must be >= 0',
        ].sort(),
      );
    });

    it('reports a YAML syntax error with the file, line and column', () => {
      const file = join(FIXTURES, 'yaml-syntax-error.yaml');
      const [problem, ...rest] = problemsOf(() => loadConfig(file, {}));
      expect(rest).toEqual([]);
      expect(problem).toMatch(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .* at line 5, column 1$`),
      );
    });

    it('rejects a key given twice instead of keeping the last', () => {
      const file = join(FIXTURES, 'duplicate-key.yaml');
      expect(problemsOf(() => loadConfig(file, {}))).toEqual([
        `${file}: Map keys must be unique at line 4, column 1`,
      ]);
    });
  });

  describe('.file', () => {
    it('uses every default when no file is given', () => {
      const config = loadConfig(undefined, {});
      expect(config.shutdown.timeoutMs).toBe(10000);
      expect(config.telemetry).toEqual({
        enabled: true,
        listen: '0.0.0.0:9464',
        log: { level: 'info', format: 'auto' },
      });
      expect(config.source.ebpf.probes).toEqual(['process', 'tcp', 'oom', 'signal']);
    });

    it('names a missing file in the error', () => {
      expect(problemsOf(() => loadConfig('/nonexistent/podtrace.yaml', {}))).toEqual([
        'config file /nonexistent/podtrace.yaml: does not exist',
      ]);
    });

    it('treats an empty file as all defaults', () => {
      expect(loadConfig(writeTemp(''), {})).toEqual(loadConfig(undefined, {}));
    });
  });

  describe('.precedence', () => {
    const file = (): string => writeTemp('telemetry:\n  log:\n    level: warn\n');

    it('lets the file beat the defaults', () => {
      expect(loadConfig(file(), {}).telemetry.log.level).toBe('warn');
    });

    it('lets the environment beat the file', () => {
      expect(loadConfig(file(), { PODTRACE_LOG_LEVEL: 'debug' }).telemetry.log.level).toBe('debug');
    });

    it('lets a flag beat the environment', () => {
      const flags = [{ key: 'telemetry.log.level', value: 'error', origin: '--log-level' }];
      expect(loadConfig(file(), { PODTRACE_LOG_LEVEL: 'debug' }, flags).telemetry.log.level).toBe('error');
    });

    it('ignores an empty variable', () => {
      expect(loadConfig(file(), { PODTRACE_LOG_LEVEL: '' }).telemetry.log.level).toBe('warn');
    });

    it('maps the node and CRI variables onto their keys', () => {
      const config = loadConfig(undefined, {
        NODE_NAME: 'node-a',
        PODTRACE_CRI_ENDPOINT: 'unix:///run/containerd/containerd.sock',
        PODTRACE_CGROUP_BASE: '/sys/fs/cgroup',
        PODTRACE_PROC_BASE: '/host/proc',
        PODTRACE_KAFKA_BROKERS: 'k1:9092, k2:9092,',
      });
      expect(config.nodeName).toBe('node-a');
      expect(config.enrich).toMatchObject({
        cgroupBase: '/sys/fs/cgroup',
        procBase: '/host/proc',
        cri: { endpoint: 'unix:///run/containerd/containerd.sock' },
      });
      expect(config.sinks.kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'] });
    });

    it('leaves the OTEL_* variables to the OTLP sink: they change nothing here', () => {
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4317',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc',
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.cluster.name=prod-eu',
      };
      expect(loadConfig(undefined, env)).toEqual(loadConfig(undefined, {}));
    });

    it('names the variable when its value is rejected', () => {
      expect(problemsOf(() => loadConfig(undefined, { PODTRACE_LOG_FORMAT: 'xml' }))).toEqual([
        'telemetry.log.format: "xml" is not one of "auto", "json", "text" (from PODTRACE_LOG_FORMAT)',
      ]);
    });

    it('names the flag when its value is rejected, and the file for file values, in one error', () => {
      const f = writeTemp('shutdown:\n  timeoutMs: -1\n');
      const flags = [{ key: 'source.ebpf.probes', value: ['tcp', 'udp'], origin: '--probes' }];
      expect(problemsOf(() => loadConfig(f, {}, flags))).toEqual([
        'source.ebpf.probes[1]: "udp" is not one of "process", "tcp", "oom", "signal", "dns", "file", "sched" (from --probes)',
        'shutdown.timeoutMs: -1 must be >= 0',
      ]);
    });
  });
});

describe('validateConfig', () => {
  describe('.values', () => {
    it('shortens a long bad value in the message', () => {
      const [typeProblem] = problemsOf(() => validateConfig({ shutdown: { timeoutMs: 'y'.repeat(500) } }));
      expect(typeProblem).toBe(`shutdown.timeoutMs: "${'y'.repeat(76)}... must be integer`);
    });
  });
});

describe('isHostPort', () => {
  it.each([
    ['kafka:9092', true],
    ['10.0.0.1:1', true],
    ['[::1]:65535', true],
    ['kafka:90x2', false],
    ['kafka', false],
    ['kafka:0', false],
    ['kafka:65536', false],
    [':9092', false],
  ])('judges %s as %s', (value, expected) => {
    expect(isHostPort(value)).toBe(expected);
  });
});

describe('keyPath', () => {
  it('turns a JSON pointer into a YAML key path with indexes', () => {
    expect(keyPath('/sinks/kafka/brokers/1')).toBe('sinks.kafka.brokers[1]');
    expect(keyPath('/sinks/otlp/headers/a~1b')).toBe('sinks.otlp.headers.a/b');
  });
});
