import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { EXIT_UNDELIVERED, shutdownOnSignal, signalExitCode } from '../../src/core/shutdown';
import { exitOf, spawnScript, waitForOutput } from '../helpers/spawn-ts';

const SHUTDOWN_TS = join(__dirname, '..', '..', 'src', 'core', 'shutdown.ts');
const LOGGER_TS = join(__dirname, '..', '..', 'src', 'core', 'logger.ts');

/** A child agent: installs the handlers, prints "ready"; its shutdown prints and then behaves per `mode`. */
function agent(mode: 'flush' | 'hang' | 'fail', timeoutMs: number): string {
  return `
const { shutdownOnSignal } = require(${JSON.stringify(SHUTDOWN_TS)});
const { createLogger } = require(${JSON.stringify(LOGGER_TS)});
const logger = createLogger({ level: 'info', format: 'json', destination: process.stderr });
const keepAlive = setInterval(() => {}, 1000);
shutdownOnSignal({
  timeoutMs: ${timeoutMs},
  logger,
  shutdown: async (reason) => {
    process.stdout.write('shutdown-started ' + reason + '\\n');
    if (${JSON.stringify(mode)} === 'hang') return new Promise(() => {});
    if (${JSON.stringify(mode)} === 'fail') throw new Error('sink flush failed');
    await new Promise((r) => setImmediate(r));
    process.stdout.write('flushed\\n');
    clearInterval(keepAlive);
  },
});
process.stdout.write('ready\\n');
`;
}

describe('shutdownOnSignal', () => {
  describe('.process', () => {
    it('runs the graceful shutdown on SIGTERM and exits 0', async () => {
      const child = spawnScript(agent('flush', 60000));
      const exited = exitOf(child);
      await waitForOutput(child, 'ready');
      child.kill('SIGTERM');
      const result = await exited;
      expect(result.stdout).toBe('ready\nshutdown-started SIGTERM\nflushed\n');
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('shutdown complete');
    });

    it('does the same on SIGINT', async () => {
      const child = spawnScript(agent('flush', 60000));
      const exited = exitOf(child);
      await waitForOutput(child, 'ready');
      child.kill('SIGINT');
      const result = await exited;
      expect(result.stdout).toContain('shutdown-started SIGINT\nflushed\n');
      expect(result.code).toBe(0);
    });

    it('exits at once with 128+signal on a second signal, without waiting for the flush', async () => {
      const child = spawnScript(agent('hang', 600000));
      const exited = exitOf(child);
      await waitForOutput(child, 'ready');
      child.kill('SIGTERM');
      await waitForOutput(child, 'shutdown-started');
      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code).toBe(143);
      expect(result.stdout).not.toContain('flushed');
      expect(result.stderr).toContain('second signal');
    });

    it('exits 1 when the shutdown misses shutdown.timeoutMs', async () => {
      const child = spawnScript(agent('hang', 50));
      const exited = exitOf(child);
      await waitForOutput(child, 'ready');
      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('shutdown missed its deadline');
    });

    it('exits 1 when the shutdown fails', async () => {
      const child = spawnScript(agent('fail', 60000));
      const exited = exitOf(child);
      await waitForOutput(child, 'ready');
      child.kill('SIGTERM');
      const result = await exited;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('sink flush failed');
    });
  });

  describe('.trigger', () => {
    it('shuts down once without a signal and exits with the given code', async () => {
      const source = new EventEmitter();
      const exits: number[] = [];
      let calls = 0;
      const handle = shutdownOnSignal({
        timeoutMs: 60000,
        logger: silentLogger(),
        source,
        exit: (code) => exits.push(code),
        shutdown: () => {
          calls++;
          return Promise.resolve();
        },
      });
      const first = handle.trigger('source failed', 1);
      const second = handle.trigger('again');
      expect(second).toBe(first);
      expect(await first).toBe(1);
      expect(await handle.done).toBe(1);
      expect(calls).toBe(1);
      expect(exits).toEqual([1]);
      expect(source.listenerCount('SIGTERM')).toBe(0);
    });

    it('hands every stage one deadline and exits with the code the shutdown resolved with (3: something undelivered)', async () => {
      const source = new EventEmitter();
      const exits: number[] = [];
      let given = 0;
      const before = Date.now();
      const handle = shutdownOnSignal({
        timeoutMs: 5000,
        logger: silentLogger(),
        source,
        exit: (code) => exits.push(code),
        shutdown: (_reason, deadlineAt) => {
          given = deadlineAt;
          return Promise.resolve(EXIT_UNDELIVERED);
        },
      });
      expect(await handle.trigger('SIGTERM')).toBe(3);
      expect(given).toBeGreaterThanOrEqual(before + 5000);
      expect(given).toBeLessThanOrEqual(Date.now() + 5000);
      expect(exits).toEqual([3]);
    });

    it('removes its handlers on dispose', () => {
      const source = new EventEmitter();
      const handle = shutdownOnSignal({
        timeoutMs: 1,
        logger: silentLogger(),
        source,
        exit: () => undefined,
        shutdown: () => Promise.resolve(),
      });
      expect(source.listenerCount('SIGTERM')).toBe(1);
      expect(source.listenerCount('SIGINT')).toBe(1);
      handle.dispose();
      expect(source.listenerCount('SIGTERM') + source.listenerCount('SIGINT')).toBe(0);
    });
  });
});

describe('signalExitCode', () => {
  it('follows the 128 + signal number convention', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });
});
