import { join } from 'node:path';
import { runConfigValidate } from '../../src/cli/config-command';
import { loadConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/core/errors';

const FIXTURES = join(__dirname, '..', 'fixtures', 'bad-config');
/** Every secret in the fixtures below; none may appear in any message. */
const SECRET = 'hunter2-do-not-print';

function problemsOf(fixture: string): readonly string[] {
  try {
    loadConfig(join(FIXTURES, `${fixture}.yaml`), {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`${fixture} was accepted`);
}

/** What `podtrace config validate` prints for the fixture, and its exit code. */
function validate(fixture: string): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runConfigValidate([join(FIXTURES, `${fixture}.yaml`)], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
    cwd: '/',
  });
  return { code, out, err };
}

const file = (f: string): string => join(FIXTURES, `${f}.yaml`);

/** Each defect: the fixture and the exact problem lines, naming the key (never a secret's value). */
const DEFECTS: Array<[fixture: string, problems: string[]]> = [
  [
    'kafka-sasl-inline-password',
    [
      'sinks.kafka.sasl: needs exactly one of passwordFile, passwordEnv (sets none)',
      'sinks.kafka.sasl.password: unknown key (value ***)',
    ],
  ],
  [
    'kafka-sasl-two-passwords',
    ['sinks.kafka.sasl: needs exactly one of passwordFile, passwordEnv (sets passwordFile and passwordEnv)'],
  ],
  [
    'disk-queue-shared-dir',
    [
      'sinks.otlp.queue.dir and sinks.kafka.queue.dir: both disk queues use /var/lib/podtrace/queue and /var/lib/podtrace/queue/kafka; give each sink its own directory',
    ],
  ],
  ['disk-queue-storage-unknown', ['sinks.kafka.queue.storage: "file" is not one of "memory", "disk"']],
  ['otlp-header-secret-not-string', ['sinks.otlp.headers.authorization: ["***","***"] must be string']],
  [
    'tls-key-misspelt',
    [
      'sinks.otlp.tls.kye: unknown key (value ***)',
      'sinks.otlp.tls: sets cert but not key (set both or neither)',
    ],
  ],
  ['endpoint-url-password', ['sinks.otlp.endpoint: ["https://podtrace:***@collector:4317"] must be string']],
  [
    'yaml-alias-cycle',
    ['filter.namespaces[1]: a YAML alias refers to a node that contains it (an alias cycle)'],
  ],
  [
    'yaml-unresolved-alias',
    [`${file('yaml-unresolved-alias')}: Unresolved alias (the anchor must be set before the alias): missing`],
  ],
  ['not-utf8', [`nodeName: not valid UTF-8 (${file('not-utf8')}, byte 61, line 2); save the file as UTF-8`]],
  ['replay-without-file', ['source.replay.file: "" is required when source.kind is replay']],
  ['synthetic-empty-mix', ['source.synthetic.mix: {"process.exec":0} must give some kind a weight above 0']],
  [
    'pod-selector-invalid',
    ['filter.podSelector: "app in (web" is not a label selector (cannot parse "app in (web")'],
  ],
  ['timeout-infinite', ['shutdown.timeoutMs: .inf must be <= 600000']],
  ['rate-not-a-number', ['source.replay.rate: .nan is not a number']],
  ['argv-bytes-minus-infinity', ['source.ebpf.argvBytes: -.inf must be >= 0']],
  [
    'redact-pattern-invalid',
    ['redact.patterns[1]: "password" is not a pattern (--flag, NAME=, Header: or *://*:*@)'],
  ],
];

describe('loadConfig', () => {
  describe('.defects', () => {
    it.each(DEFECTS)('rejects %s with the key named and no secret shown', (fixture, expected) => {
      const problems = problemsOf(fixture);
      expect(problems).toEqual(expected);
      expect(problems.join('\n')).not.toContain(SECRET);
      expect(problems.join('\n')).not.toContain('hunter2');
    });
  });
});

describe('runConfigValidate', () => {
  describe('.defects', () => {
    // The same validation as run: what run refuses, validate refuses, with the same lines.
    it.each(DEFECTS)('refuses %s exactly as run does', (fixture, expected) => {
      const { code, out, err } = validate(fixture);
      expect(code).toBe(1);
      expect(out).toBe('');
      for (const line of expected) expect(err).toContain(`  ${line}\n`);
      expect(err).not.toContain('hunter2');
    });
  });
});
