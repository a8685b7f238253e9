import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { missingBpf } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';
import { exitOf, spawnScript } from '../helpers/spawn-ts';

const ADDON_TS = join(__dirname, '..', '..', 'src', 'native', 'native-addon.ts');
const CYCLES = 8;

/**
 * A child that, CYCLES times: starts a real tracer with a single pending batch slot, never calls
 * next() until the drain thread reports that it waits for room (pending batches full, under the
 * parent's exec load), then closes it — the close joins the drain thread — and drains what close()
 * left over until next() yields null. A lost stop wakeup hangs close() and the child never exits.
 */
const child = `
const { loadNativeAddon, bpfObjectDir } = require(${JSON.stringify(ADDON_TS)});
const addon = loadNativeAddon();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let cycle = 0; cycle < ${CYCLES}; cycle++) {
    const tracer = new addon.Tracer({
      objectDir: bpfObjectDir(), probes: ['process'], ringBufferBytes: 262144,
      batchBytes: 4096, maxPendingBatches: 1, drainIntervalMs: 1,
    });
    tracer.start();
    while (tracer.stats().stalls === 0) await sleep(5);
    // Vary the moment of the stop relative to the thread's wait so different cycles hit it differently.
    await sleep(cycle % 3);
    const stalls = tracer.stats().stalls;
    tracer.close();
    let batches = 0;
    while ((await tracer.next()) !== null) batches++;
    process.stdout.write('cycle ' + cycle + ' stalls=' + stalls + ' leftover=' + batches + '\\n');
  }
  process.stdout.write('done\\n');
})().catch((e) => { process.stdout.write('error ' + e.message + '\\n'); process.exit(3); });
`;

describeIf(missingBpf())('RingPoller (real kernel)', () => {
  describe('.stop', () => {
    let load: ChildProcess | undefined;

    afterEach(() => {
      load?.kill('SIGKILL');
    });

    it('returns while every pending batch is full under exec load, and the process exits', async () => {
      // Exec load so the ring keeps filling while the tracer's consumer takes nothing.
      load = spawn('/bin/sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' });
      const result = await exitOf(spawnScript(child));
      const cycles = result.stdout.split('\n').filter((l) => l.startsWith('cycle '));
      expect(result.stderr).toBe('');
      expect(cycles).toHaveLength(CYCLES);
      for (const line of cycles) {
        const m = /stalls=(\d+) leftover=(\d+)/.exec(line);
        expect(Number(m?.[1])).toBeGreaterThan(0);
        // The batch that was pending when the thread stopped is still handed to JS after close().
        expect(Number(m?.[2])).toBeGreaterThan(0);
      }
      expect(result.stdout.endsWith('done\n')).toBe(true);
      expect(result.code).toBe(0);
    }, 120_000);
  });
});
