import { createServer } from 'node:net';
import { SHUTDOWN_GRACE_MS } from '../../src/core/shutdown';
import { missingBuiltCli, startBuiltAgent } from '../helpers/built-agent';
import { describeIf } from '../helpers/prereq';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describeIf(missingBuiltCli())('podtrace run, SIGTERM with every sink down', () => {
  it('holds the one shutdown deadline, counts what each sink could not deliver and exits 3', async () => {
    const timeoutMs = 3000;
    const agent = await startBuiltAgent([
      'source: { kind: synthetic, synthetic: { eventsPerSecond: 2000, pods: 4 } }',
      'enrich: { enabled: false }',
      'telemetry: { enabled: false }',
      `shutdown: { timeoutMs: ${timeoutMs} }`,
      'sinks:',
      '  console: { enabled: false }',
      `  otlp: { enabled: true, endpoint: "http://127.0.0.1:${await closedPort()}", insecure: true, retry: { initialBackoffMs: 50, maxBackoffMs: 200, maxElapsedMs: 600000 } }`,
      `  kafka: { enabled: true, brokers: ["127.0.0.1:${await closedPort()}"], lossReportSeconds: 3600 }`,
    ]);
    try {
      await new Promise((r) => setTimeout(r, 1000)); // both sinks hold events and retry
      const t0 = Date.now();
      agent.child.kill('SIGTERM');
      expect(await agent.exited).toBe(3);
      // Both sinks flushed in parallel against the one deadline: one after the other would take at
      // least two deadlines (the agent itself exits by deadline + grace; the margin is for a loaded CI).
      expect(SHUTDOWN_GRACE_MS).toBeLessThan(timeoutMs);
      expect(Date.now() - t0).toBeLessThan(2 * timeoutMs);
      const otlp = /podtrace: sink otlp: (\d+) events not delivered by the shutdown deadline/.exec(
        agent.log(),
      );
      const kafka = /podtrace: sink kafka: (\d+) events not delivered by the shutdown deadline/.exec(
        agent.log(),
      );
      expect(Number(otlp?.[1])).toBeGreaterThan(0);
      expect(Number(kafka?.[1])).toBeGreaterThan(0);
      expect(agent.log()).not.toContain('may be lost');
    } finally {
      agent.child.kill('SIGKILL');
    }
  }, 60_000);
});
