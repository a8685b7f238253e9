import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PodCgroup {
  /** Absolute cgroup2 directory of the container. */
  dir: string;
  podUid: string;
  containerId: string;
}

/**
 * Real pod-shaped cgroup2 directories (kubelet cgroupfs layout below a random root:
 * <root>/kubepods/besteffort/pod<uid>/<id>)
 * and processes started inside them: `sh` moves itself into the cgroup, then runs the script, so
 * everything the script does happens in the container's cgroup. `cleanup()` kills what is left and
 * removes the directories.
 */
export class PodCgroups {
  private readonly dirs: string[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly base: string) {}

  /** Below a random root of its own (like a kubelet --cgroup-root) so concurrent tests never share a directory. */
  private readonly root = `podtrace-e2e-${randomBytes(4).toString('hex')}`;

  make(prefix = 'kubepods/besteffort'): PodCgroup {
    const podUid = randomUUID();
    const containerId = randomBytes(32).toString('hex');
    const parts = [this.root, ...prefix.split('/'), `pod${podUid}`, containerId];
    for (let i = 1; i <= parts.length; i++) {
      const d = join(this.base, ...parts.slice(0, i));
      try {
        mkdirSync(d);
        this.dirs.push(d);
      } catch {
        // exists
      }
    }
    return { dir: join(this.base, ...parts), podUid, containerId };
  }

  /** Starts `sh -c '<script>'` inside the cgroup (stdio ignored unless `pipe`). */
  spawnIn(cg: PodCgroup, script: string, pipe = false): ChildProcess {
    const child = spawn(
      '/bin/sh',
      ['-c', `echo $$ > ${join(cg.dir, 'cgroup.procs')} || exit 97\n${script}`],
      {
        stdio: pipe ? 'pipe' : 'ignore',
      },
    );
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs the script in the cgroup to its end; resolves with the exit code. */
  runIn(cg: PodCgroup, script: string): Promise<number | null> {
    const child = this.spawnIn(cg, script);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
  }

  async cleanup(): Promise<void> {
    const exits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.on('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
    for (const d of this.dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // still busy or already gone
      }
    }
    this.dirs.length = 0;
  }
}
