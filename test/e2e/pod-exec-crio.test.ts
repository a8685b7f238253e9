import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCriServer } from '../enrich/fake-cri-server';
import { runPodtrace } from '../helpers/podtrace-cli';
import { describeIf, isRoot } from '../helpers/prereq';

const CID = 'c'.repeat(64);

/**
 * CRI-O-shaped runtime: the fake CRI answers as `cri-o` and reports the container pid the way CRI-O
 * does (verbose ContainerStatus, `info.info` JSON `pid`); the "container" is a real process in its
 * own UTS namespace, so entering it is observable.
 */
describeIf(isRoot() ? null : 'podtrace exec against a CRI-O-shaped runtime needs root (setns)')(
  'podtrace exec on a CRI-O node',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'pt-crio-'));
    const cri = new FakeCriServer(join(dir, 'crio.sock'));
    let container: ChildProcess;

    beforeAll(async () => {
      container = spawn(
        'unshare',
        ['--uts', 'sh', '-c', 'hostname crio-pod-0 && echo ready && exec sleep 120'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve) => container.stdout?.once('data', () => resolve()));
      cri.runtimeName = 'cri-o';
      cri.addPod({ id: 'sb-crio', name: 'crio-pod-0', namespace: 'shop', uid: 'crio-uid' }, [
        { id: CID, name: 'app', image: 'quay.io/shop/app:1', pid: container.pid },
      ]);
      await cri.start();
    });

    afterAll(async () => {
      container.kill();
      await cri.stop();
    });

    it('enters the container process the runtime names and passes the exit code through', async () => {
      const env = { PODTRACE_CRI_ENDPOINT: cri.endpoint, NODE_NAME: 'node-a' };
      const r = await runPodtrace(['exec', '-n', 'shop', 'crio-pod-0', '--ns', 'uts', '--', 'hostname'], env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('crio-pod-0\n');
      expect(spawnSync('hostname', { encoding: 'utf8' }).stdout).not.toBe('crio-pod-0\n');
      const code = await runPodtrace(['exec', '-n', 'shop', 'crio-pod-0', '--', 'sh', '-c', 'exit 3'], env);
      expect(code.code).toBe(3);
    });
  },
);
