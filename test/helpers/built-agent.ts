import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/native-addon';
import { waitFor } from './kernel';

/** The built CLI entry point (`npm run build:ts`). */
export const BUILT_MAIN = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

/** Why a test of the built CLI cannot run, or null when it can. */
export function missingBuiltCli(): string | null {
  return existsSync(BUILT_MAIN) ? null : 'dist not built (npm run build:ts)';
}

/** A `podtrace run` child process and everything it printed so far (stdout and stderr together). */
export interface BuiltAgent {
  child: ChildProcess;
  log(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * Writes `configLines` as a podtrace.yaml in a new temp directory, starts the built
 * `podtrace run --config` on it and resolves once it logged `podtrace running`.
 */
export async function startBuiltAgent(configLines: readonly string[]): Promise<BuiltAgent> {
  const config = join(mkdtempSync(join(tmpdir(), 'podtrace-agent-')), 'podtrace.yaml');
  writeFileSync(config, configLines.join('\n'));
  const child = spawn(process.execPath, [BUILT_MAIN, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      gone = true;
      resolve(code);
    }),
  );
  try {
    await waitFor(
      () => (log.includes('podtrace running') || gone ? true : undefined),
      'the agent to start',
      30_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; it printed: ${log}`, { cause: err });
  }
  if (gone && !log.includes('podtrace running'))
    throw new Error(`the agent exited at start; it printed: ${log}`);
  return { child, log: () => log, exited };
}
