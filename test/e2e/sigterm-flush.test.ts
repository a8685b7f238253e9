import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/native-addon';
import { missingBpf, waitFor } from '../helpers/kernel';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { describeIf } from '../helpers/prereq';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

function runShell(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid ?? -1));
  });
}

describeIf(missingBpf() ?? (existsSync(main) ? null : 'dist not built (npm run build:ts)'))(
  'podtrace run, SIGTERM',
  () => {
    it('flushes the events in flight to the sink and exits 0', async () => {
      const receiver = new OtlpReceiver();
      await receiver.start(0);
      const dir = mkdtempSync(join(tmpdir(), 'podtrace-sigterm-'));
      const config = join(dir, 'podtrace.yaml');
      // A long batch delay and a large batch: at SIGTERM the spans are still queued in the sink, only
      // the shutdown flush delivers them.
      writeFileSync(
        config,
        [
          'enrich: { enabled: false }',
          'telemetry: { enabled: false }',
          'sinks:',
          '  console: { enabled: false }',
          `  otlp: { enabled: true, endpoint: "http://${receiver.address}", insecure: true, batch: { maxDelayMs: 60000, maxSpans: 65536 }, queue: { maxSpans: 1000000 } }`,
        ].join('\n'),
      );
      const agent = spawn(process.execPath, [main, 'run', '--config', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      agent.stdout.on('data', (d: Buffer) => (log += d.toString()));
      agent.stderr.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
      try {
        await waitFor(
          () => (log.includes('podtrace running') ? true : undefined),
          'the agent to start',
          30_000,
        );
        const sh = await runShell('/bin/true; /bin/true; /bin/true');
        await new Promise((r) => setTimeout(r, 300)); // let the drain thread hand the records to JS
        expect(receiver.spans).toHaveLength(0);
        agent.kill('SIGTERM');
        expect(await exited).toBe(0);
        const children = receiver.spans.filter(
          (s) => s.name === 'process' && s.attributes['process.parent_pid'] === sh,
        );
        expect(children).toHaveLength(3);
        expect(receiver.spans.some((s) => s.name === 'process' && s.attributes['process.pid'] === sh)).toBe(
          true,
        );
        expect(log).toMatch(/podtrace: \d+ events, 0 lost in the kernel ring buffer/);
      } finally {
        agent.kill('SIGKILL');
        await receiver.stop();
      }
    }, 60_000);
  },
);
