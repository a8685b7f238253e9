import { spawn } from 'node:child_process';
import { missingBuiltCli, startBuiltAgent } from '../helpers/built-agent';
import { missingBpf } from '../helpers/kernel';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { describeIf } from '../helpers/prereq';

function runShell(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid ?? -1));
  });
}

describeIf(missingBpf() ?? missingBuiltCli())('podtrace run, SIGTERM', () => {
  it('flushes the events in flight to the sink and exits 0', async () => {
    const receiver = new OtlpReceiver();
    await receiver.start(0);
    // A long batch delay and a large batch: at SIGTERM the spans are still queued in the sink, only
    // the shutdown flush delivers them.
    const agent = await startBuiltAgent([
      'enrich: { enabled: false }',
      'telemetry: { enabled: false }',
      'sinks:',
      '  console: { enabled: false }',
      `  otlp: { enabled: true, endpoint: "http://${receiver.address}", insecure: true, batch: { maxDelayMs: 60000, maxSpans: 65536 }, queue: { maxSpans: 1000000 } }`,
    ]);
    try {
      const sh = await runShell('/bin/true; /bin/true; /bin/true');
      await new Promise((r) => setTimeout(r, 300)); // let the drain thread hand the records to JS
      expect(receiver.spans).toHaveLength(0);
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(0);
      const children = receiver.spans.filter(
        (s) => s.name === 'process' && s.attributes['process.parent_pid'] === sh,
      );
      expect(children).toHaveLength(3);
      expect(receiver.spans.some((s) => s.name === 'process' && s.attributes['process.pid'] === sh)).toBe(
        true,
      );
      expect(agent.log()).toMatch(/podtrace: \d+ events, 0 lost in the kernel ring buffer/);
    } finally {
      agent.child.kill('SIGKILL');
      await receiver.stop();
    }
  }, 60_000);
});
