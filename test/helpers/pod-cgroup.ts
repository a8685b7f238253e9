import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A pod-shaped cgroup tree as the kubelet's systemd driver with containerd creates it, below a
 * random `--cgroup-root` of our own so nothing collides with a real kubelet or another test:
 * `<root>/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_>.slice/
 * cri-containerd-<id>.scope`. `layout: 'cgroupfs'` gives `<root>/kubepods/besteffort/pod<uid>/<id>`
 * (the cgroupfs driver, as on Amazon Linux 2 with cgroup v1).
 */
export class PodCgroup {
  readonly podUid = randomUUID();
  readonly podDir: string;
  private readonly created: string[] = [];

  constructor(
    readonly base: string,
    readonly root = `/podtrace-it-${randomBytes(4).toString('hex')}`,
    readonly layout: 'systemd' | 'cgroupfs' = 'systemd',
  ) {
    this.podDir =
      layout === 'systemd'
        ? `${root}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${this.podUid.replace(/-/g, '_')}.slice`
        : `${root}/kubepods/besteffort/pod${this.podUid}`;
    this.mkdirs(this.podDir);
  }

  /** Creates a container cgroup of the pod; returns its id (64 hex), path and cgroup id (inode). */
  container(id = randomBytes(32).toString('hex')): { id: string; path: string; cgroupId: number } {
    const path =
      this.layout === 'systemd' ? `${this.podDir}/cri-containerd-${id}.scope` : `${this.podDir}/${id}`;
    this.mkdirs(path);
    return { id, path, cgroupId: statSync(join(this.base, path)).ino };
  }

  /** Absolute directory of a path of this tree. */
  dir(path: string): string {
    return join(this.base, path);
  }

  /** `sh -c` that moves itself into `path` and then execs `command` (so the exec runs inside). */
  spawnIn(path: string, command: string, stdio: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    return spawn('/bin/sh', ['-c', `echo $$ > ${join(this.base, path, 'cgroup.procs')} && exec ${command}`], {
      stdio: stdio === 'pipe' ? ['pipe', 'pipe', 'pipe'] : 'ignore',
    });
  }

  private mkdirs(path: string): void {
    let cur = '';
    for (const seg of path.split('/').filter((s) => s !== '')) {
      cur += `/${seg}`;
      if (!existsSync(join(this.base, cur))) {
        mkdirSync(join(this.base, cur));
        this.created.push(cur);
      }
    }
  }

  /** Removes every directory it created (deepest first); processes must be gone already. */
  remove(): void {
    const all = new Set(this.created);
    const walk = (rel: string): void => {
      const abs = join(this.base, rel);
      if (!existsSync(abs)) return;
      for (const e of readdirSync(abs, { withFileTypes: true }))
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
      all.add(rel);
    };
    walk(this.root);
    for (const p of [...all].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(join(this.base, p));
      } catch {
        // still busy or gone: best effort
      }
    }
  }
}

/** Pids in a cgroup directory (cgroup.procs). */
export function cgroupPids(dir: string): number[] {
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

/** Kills a child and waits for it to be gone. */
export async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}

/** Resolves with the first stdout line of `child` that matches, e.g. a `READY port=…` handshake. */
export function lineFrom(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${String(pattern)}: ${buf}`)),
      timeoutMs,
    );
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m !== null) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${String(code)}) before ${String(pattern)}: ${buf}`));
    });
  });
}

/** The pod server fixture (see its header). */
export const POD_SERVER = join(__dirname, '..', 'fixtures', 'attribution', 'pod-server.py');

/** Why the attribution tests cannot run (a missing tool), or null. */
export function attributionTools(): string | null {
  for (const t of ['python3', 'unshare', 'nsenter', 'iptables', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} not installed`;
  }
  return null;
}

/** Runs a command in the network namespace of `pid` (from podtrace's own, host cgroup). */
export function inNetns(pid: number, args: string[]): void {
  const r = spawnSync('nsenter', ['-t', String(pid), '-n', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nsenter ${args.join(' ')}: ${r.stderr}`);
}

/** `n` connections from the host cgroup to `port` in the network namespace of `pid`. */
export function clientConnects(pid: number, port: number, n: number): void {
  inNetns(pid, [
    'python3',
    '-c',
    `import socket\nfor _ in range(${n}):\n s = socket.create_connection(('127.0.0.1', ${port})); s.send(b'hi'); s.recv(10); s.close()`,
  ]);
}

/** Reads JSON lines of `podtrace run --output json` from a child. */
export class JsonLines {
  readonly lines: Record<string, unknown>[] = [];
  log = '';
  constructor(child: ChildProcess) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.log += `${line}\n`;
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }
}

/** Spawns the built CLI inside its own cgroup and a private cgroup namespace (`unshare -C`). */
export function spawnAgentInCgroupNamespace(
  agentCgroupDir: string,
  main: string,
  config: string,
): ChildProcess {
  return spawn(
    '/bin/sh',
    [
      '-c',
      `echo $$ > ${join(agentCgroupDir, 'cgroup.procs')} && exec unshare -C ${process.execPath} ${main} run --config ${config}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
