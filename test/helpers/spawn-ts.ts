import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A `require` hook that compiles .ts with the TypeScript compiler (transpile only), so a child
 * Node process can run repository sources the way jest does, without a build.
 */
function registerHook(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-ts-hook-'));
  const file = join(dir, 'register.js');
  writeFileSync(
    file,
    `const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('node:fs');
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
`,
  );
  return file;
}

let hook: string | undefined;

/**
 * Spawns `node` on a small script (JavaScript source text) that may `require()` repository .ts files
 * by absolute path. Returns the child with stdout/stderr as pipes.
 */
export function spawnScript(script: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  hook ??= registerHook();
  const file = join(mkdtempSync(join(tmpdir(), 'podtrace-child-')), 'child.js');
  writeFileSync(file, script);
  return spawn(process.execPath, ['--no-experimental-strip-types', '--require', hook, file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves when it exits. */
export function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** Resolves once the child has printed `marker` on stdout. */
export function waitForOutput(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (seen.includes(marker)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before printing ${JSON.stringify(marker)}; stdout: ${seen}`)),
    );
  });
}
