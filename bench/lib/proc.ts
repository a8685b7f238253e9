import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/native-addon';

export const ROOT = packageRoot();
export const NODE = process.execPath;

/** A compiled bench worker (dist/bench/workers/<name>.js). */
export function workerPath(name: string): string {
  return join(ROOT, 'dist', 'bench', 'workers', `${name}.js`);
}

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function start(cmd: string, args: readonly string[], options: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => resolve(code));
  });
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Resolves once `test` matches the child's stdout or stderr; rejects if it exits or times out first. */
export async function waitForOutput(
  child: Child,
  test: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (!test.test(child.stdout()) && !test.test(child.stderr())) {
    if (exited) throw new Error(`${what}: exited before ready\n${child.stderr().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The last line of stdout that parses as a JSON object. */
export function lastJson<T>(text: string, what: string): T {
  const lines = text.trim().split('\n').reverse();
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${what}: no JSON result in its output:\n${text.slice(-2000)}`);
}

/** Runs a command to completion and returns its JSON result line. */
export async function runJson<T>(
  cmd: string,
  args: readonly string[],
  what: string,
  options: SpawnOptions = {},
): Promise<T> {
  const child = start(cmd, args, options);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${what}: exit ${String(code)}\n${child.stderr().slice(-2000)}`);
  return lastJson<T>(child.stdout(), what);
}

/** Runs a bench worker (node dist/bench/workers/NAME.js 'JSON-ARGS') and returns its result. */
export function runWorker<T>(name: string, args: unknown, nodeFlags: readonly string[] = []): Promise<T> {
  return runJson<T>(NODE, [...nodeFlags, workerPath(name), JSON.stringify(args)], `worker ${name}`);
}
