import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './proc';

export interface NativeTools {
  gen: string;
  cConsumer: string;
  processObject: string;
}

function stale(out: string, src: string): boolean {
  return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
}

function pkgConfig(args: string[]): string[] {
  return execFileSync('pkg-config', args, { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
}

/** Builds the syscall generator and the C libbpf consumer with cc into build/bench/. */
export function buildNativeTools(): NativeTools {
  const out = join(ROOT, 'build', 'bench');
  mkdirSync(out, { recursive: true });
  const src = join(ROOT, 'bench', 'native');
  const gen = join(out, 'gen');
  const cConsumer = join(out, 'c-consumer');
  if (stale(gen, join(src, 'gen.c'))) execFileSync('cc', ['-O2', '-Wall', '-o', gen, join(src, 'gen.c')]);
  if (stale(cConsumer, join(src, 'c-consumer.c'))) {
    execFileSync('cc', [
      '-O2',
      '-Wall',
      ...pkgConfig(['--cflags', 'libbpf']),
      '-o',
      cConsumer,
      join(src, 'c-consumer.c'),
      ...pkgConfig(['--libs', 'libbpf']),
      '-lelf',
      '-lz',
    ]);
  }
  const processObject = join(ROOT, 'build', 'bpf', 'process.bpf.o');
  if (!existsSync(processObject)) throw new Error(`${processObject} missing: run npm run build first`);
  return { gen, cConsumer, processObject };
}
