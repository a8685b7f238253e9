import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/native-addon';
import type { PodCgroup, PodCgroups } from './pod-cgroups';

/** The file I/O fixture (commands on stdin; see its header). */
export const FILE_IO = join(__dirname, '..', 'fixtures', 'file', 'file-io.py');

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

/**
 * A fresh directory on a disk-backed filesystem (fsync on tmpfs returns at once): the system temp
 * directory when it is on disk, else /var/tmp, else below the checkout.
 */
export function diskTempDir(prefix: string): string {
  for (const dir of [tmpdir(), '/var/tmp', packageRoot()]) {
    try {
      const type = statfsSync(dir).type;
      if (type !== TMPFS_MAGIC && type !== RAMFS_MAGIC) return mkdtempSync(join(dir, prefix));
    } catch {
      // not there or not writable: the next candidate
    }
  }
  throw new Error('no disk-backed directory for the file tests (all candidates are tmpfs)');
}

/** The fixture running inside a pod cgroup: `ask` sends one command and resolves with its answer line. */
export class FileIoProcess {
  private readonly child: ChildProcess;
  private buf = '';
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(cgroups: PodCgroups, pod: PodCgroup) {
    this.child = cgroups.spawnIn(pod, `exec python3 -u ${FILE_IO}`, true);
    this.child.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  ask(command: string, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`file-io: no answer to "${command}"`)), timeoutMs);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      this.child.stdin?.write(`${command}\n`);
    });
  }

  stop(): void {
    this.child.stdin?.end();
  }
}
