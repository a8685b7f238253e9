import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');

let hook: string | undefined;
/** Transpiled sources, keyed by path and content, shared by every CLI child of this test run. */
const CACHE = join(tmpdir(), `podtrace-cli-ts-cache-${process.getuid?.() ?? 0}`);

/** A `require` hook that transpiles the repository's .ts sources (as jest does), for child processes. */
function registerHook(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-cli-hook-'));
  const file = join(dir, 'register.js');
  writeFileSync(
    file,
    `const ts = require(${JSON.stringify(require.resolve('typescript'))});
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const cache = ${JSON.stringify(CACHE)};
fs.mkdirSync(cache, { recursive: true });
require.extensions['.ts'] = (module, filename) => {
  const src = fs.readFileSync(filename, 'utf8');
  const key = path.join(cache, crypto.createHash('sha1').update(filename).update(src).digest('hex') + '.js');
  let js;
  try {
    js = fs.readFileSync(key, 'utf8');
  } catch {
    js = ts.transpileModule(src, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    fs.writeFileSync(key + '.' + process.pid, js);
    fs.renameSync(key + '.' + process.pid, key);
  }
  module._compile(js, filename);
};
`,
  );
  return file;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns the podtrace CLI (`main()` of src/cli/main.ts, from sources) with `argv`, the environment
 * `env` on top of a copy of this one without Kubernetes credentials unless `env` sets them, and
 * stdin as a pipe. `prefix` runs it under another command (e.g. setpriv to drop capabilities).
 */
export function spawnPodtrace(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  prefix: string[] = [],
): ChildProcess {
  hook ??= registerHook();
  const script = join(mkdtempSync(join(tmpdir(), 'podtrace-cli-')), 'cli.js');
  writeFileSync(
    script,
    `require(${JSON.stringify(MAIN)}).main(${JSON.stringify(argv)}).then((c) => process.exit(c), (e) => { console.error(e); process.exit(99); });\n`,
  );
  const base = { ...process.env };
  delete base.KUBECONFIG;
  delete base.KUBERNETES_SERVICE_HOST;
  const cmd = [...prefix, process.execPath, '--no-experimental-strip-types', '--require', hook, script];
  return spawn(cmd[0] as string, cmd.slice(1), {
    env: { ...base, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output and resolves when it exits. */
export function outcome(child: ChildProcess): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** Runs the CLI to completion with `input` on stdin (closed after it). */
export function runPodtrace(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  opts: { input?: string; prefix?: string[] } = {},
): Promise<CliRun> {
  const child = spawnPodtrace(argv, env, opts.prefix);
  const done = outcome(child);
  child.stdin?.end(opts.input ?? '');
  return done;
}
