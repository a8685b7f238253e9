#!/usr/bin/env node
import { ConfigError, errorMessage } from '../core/errors';
import { USAGE, UsageError, parseFlags, parseRunArgs } from './args';
import { loadConfig } from '../config/load-config';
import { checkCommand } from './check-command';
import { execCommand } from './exec-command';
import { parseExecArgs, parseTraceArgs } from './pod-args';
import { traceCommand } from './trace-command';
import { resolveConfigPath, runConfigPrint, runConfigValidate } from './config-command';
import { recordCommand } from './record-command';
import { runCommand } from './run-command';

/** The package version: package.json is three levels up from dist/src/cli, two from src/cli (tests). */
function packageVersion(): string {
  for (const p of ['../../../package.json', '../../package.json']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require(p) as { version: string }).version;
    } catch {
      // next candidate
    }
  }
  return 'unknown';
}
const version = packageVersion();

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(parseRunArgs(rest));
      case 'record':
        return await recordCommand(rest);
      case 'exec':
        return await execCommand(parseExecArgs(rest));
      case 'trace':
        return await traceCommand(parseTraceArgs(rest));
      case 'check': {
        const flags = parseFlags(rest, ['config']);
        return await checkCommand(loadConfig(resolveConfigPath(flags.get('config')), process.env));
      }
      case 'config':
        if (rest[0] === 'print') return runConfigPrint(rest.slice(1));
        if (rest[0] === 'validate') return runConfigValidate(rest.slice(1));
        throw new UsageError(`unknown config command "${rest[0] ?? ''}" (print or validate)`);
      case '--version':
      case 'version':
        process.stdout.write(`podtrace ${version}\n`);
        return 0;
      case undefined:
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`podtrace: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`podtrace: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`podtrace: ${errorMessage(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`podtrace: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
