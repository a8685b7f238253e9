import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors';
import { loadConfig } from '../config/load-config';
import { maskSecrets } from '../config/mask-secrets';
import { environmentOverrides } from '../config/environment';
import type { ConfigOverride } from '../config/environment';

/** Where `run` and `config print` look for the config file when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = 'config/podtrace.yaml';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** What a command writes to and reads from; tests pass their own. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function defaultIo(io: Partial<CommandIo>): CommandIo {
  return {
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
  };
}

/**
 * The config file to use: `--config` when given (it must exist), else `config/podtrace.yaml`
 * relative to `cwd` when it exists, else none (built-in defaults).
 */
export function resolveConfigPath(flag: string | undefined, cwd: string = process.cwd()): string | undefined {
  if (flag !== undefined) return resolve(cwd, flag);
  const fallback = resolve(cwd, DEFAULT_CONFIG_PATH);
  return existsSync(fallback) ? fallback : undefined;
}

/** `--set sinks.console.format=json` → an override; the value is read as YAML (`[a, b]`, `true`, `42`). */
export function parseSetFlag(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${JSON.stringify(text)}: expected key.path=value`);
  const key = text.slice(0, eq).trim();
  let value: unknown;
  try {
    value = parseYaml(text.slice(eq + 1));
  } catch (err) {
    // The first line only: yaml's excerpt of the source would quote the value, maybe a secret.
    throw new ConfigError(`--set ${key}: ${errorMessage(err).split('\n')[0] ?? ''}`);
  }
  return { key, value: value ?? '', origin: `--set ${key}` };
}

const PRINT_USAGE = 'usage: podtrace config print [--config FILE] [--set key.path=value ...]\n';
const VALIDATE_USAGE = 'usage: podtrace config validate FILE\n';

function reportConfigError(io: CommandIo, subject: string, err: unknown): number {
  if (err instanceof ConfigError) {
    const n = err.problems.length;
    io.stderr(
      `${subject}: ${n} problem${n === 1 ? '' : 's'}\n${err.problems.map((p) => `  ${p}\n`).join('')}`,
    );
    return EXIT_INVALID;
  }
  throw err;
}

/**
 * `podtrace config print [--config FILE] [--set k=v ...]`: the effective configuration (defaults,
 * file, environment, flags) as YAML with secrets masked. Returns the exit code.
 */
export function runConfigPrint(argv: readonly string[], ioIn: Partial<CommandIo> = {}): number {
  const io = defaultIo(ioIn);
  let values: { config?: string; set?: string[]; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        set: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    io.stderr(`${errorMessage(err)}\n${PRINT_USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help === true) {
    io.stdout(PRINT_USAGE);
    return EXIT_OK;
  }
  const file = resolveConfigPath(values.config, io.cwd);
  try {
    const flags = (values.set ?? []).map(parseSetFlag);
    const config = loadConfig(file, io.env, flags);
    const fromEnv = [...new Set(environmentOverrides(io.env).map((o) => o.origin))];
    const sources = [
      'defaults',
      file ?? '(no file)',
      fromEnv.length > 0 ? `environment (${fromEnv.join(', ')})` : undefined,
      flags.length > 0 ? 'flags' : undefined,
    ].filter((s) => s !== undefined);
    io.stdout(`# effective configuration: ${sources.join(' < ')}; secrets masked\n`);
    io.stdout(stringify(maskSecrets(config), { lineWidth: 0 }));
    return EXIT_OK;
  } catch (err) {
    return reportConfigError(io, file ?? 'configuration', err);
  }
}

/**
 * `podtrace config validate FILE`: checks the file alone (the environment is not applied) and
 * lists every problem. Exit 0 when valid, 1 when not, 2 on a usage error.
 */
export function runConfigValidate(argv: readonly string[], ioIn: Partial<CommandIo> = {}): number {
  const io = defaultIo(ioIn);
  let positionals: string[];
  let help: boolean | undefined;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    positionals = parsed.positionals;
    help = parsed.values.help;
  } catch (err) {
    io.stderr(`${errorMessage(err)}\n${VALIDATE_USAGE}`);
    return EXIT_USAGE;
  }
  if (help === true) {
    io.stdout(VALIDATE_USAGE);
    return EXIT_OK;
  }
  const [file, ...rest] = positionals;
  if (file === undefined || rest.length > 0) {
    io.stderr(VALIDATE_USAGE);
    return EXIT_USAGE;
  }
  try {
    loadConfig(resolve(io.cwd, file), {});
    io.stdout(`${file}: valid\n`);
    return EXIT_OK;
  } catch (err) {
    return reportConfigError(io, file, err);
  }
}
