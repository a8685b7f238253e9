import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHUTDOWN_GRACE_MS } from '../../src/core/shutdown';
import { packageRoot } from '../../src/native/native-addon';
import { waitFor } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';

const main = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describeIf(existsSync(main) ? null : 'dist not built (npm run build:ts)')(
  'podtrace run, SIGTERM with every sink down',
  () => {
    it('holds the one shutdown deadline, counts what each sink could not deliver and exits 3', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'podtrace-sinks-down-'));
      const config = join(dir, 'podtrace.yaml');
      const timeoutMs = 3000;
      writeFileSync(
        config,
        [
          'source: { kind: synthetic, synthetic: { eventsPerSecond: 2000, pods: 4 } }',
          'enrich: { enabled: false }',
          'telemetry: { enabled: false }',
          `shutdown: { timeoutMs: ${timeoutMs} }`,
          'sinks:',
          '  console: { enabled: false }',
          `  otlp: { enabled: true, endpoint: "http://127.0.0.1:${await closedPort()}", insecure: true, retry: { initialBackoffMs: 50, maxBackoffMs: 200, maxElapsedMs: 600000 } }`,
          `  kafka: { enabled: true, brokers: ["127.0.0.1:${await closedPort()}"], lossReportSeconds: 3600 }`,
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
        await new Promise((r) => setTimeout(r, 1000)); // both sinks hold events and retry
        const t0 = Date.now();
        agent.kill('SIGTERM');
        expect(await exited).toBe(3);
        // Both sinks flushed in parallel against the one deadline (not one after the other).
        expect(Date.now() - t0).toBeLessThan(timeoutMs + SHUTDOWN_GRACE_MS);
        const otlp = /podtrace: sink otlp: (\d+) events not delivered by the shutdown deadline/.exec(log);
        const kafka = /podtrace: sink kafka: (\d+) events not delivered by the shutdown deadline/.exec(log);
        expect(Number(otlp?.[1])).toBeGreaterThan(0);
        expect(Number(kafka?.[1])).toBeGreaterThan(0);
        expect(log).not.toContain('may be lost');
      } finally {
        agent.kill('SIGKILL');
      }
    }, 60_000);
  },
);
