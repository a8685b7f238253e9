import { errorMessage } from './errors';
import type { Logger } from './logger';

/** Exit codes of the agent process. */
export const EXIT_CLEAN = 0;
/** Shutdown failed or wedged past its deadline (plus SHUTDOWN_GRACE_MS); what was buffered is not accounted for. */
export const EXIT_UNCLEAN = 1;
/** Shutdown held its deadline but some events could not be delivered by it: counted, named per sink in the exit summary. */
export const EXIT_UNDELIVERED = 3;
/** After the deadline, time for the sinks to count what is left and disconnect before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 2000;

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/** The conventional code for "terminated by signal": 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

/** What the handlers attach to; `process` in the agent, an EventEmitter in unit tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOnSignalOptions {
  /**
   * Stops the sources, drains the pipeline and flushes every sink (producers first, see
   * STYLE.md). Called once, with what started the shutdown (`SIGTERM`, or a `trigger()` reason).
   */
  shutdown: (reason: string, deadlineAt: number) => Promise<number | void>;
  /**
   * `shutdown.timeoutMs`: every stage shares the deadline `deadlineAt` = now + timeoutMs handed to
   * `shutdown`. A shutdown still running `graceMs` after it is abandoned (code 1). `shutdown` may
   * resolve with an exit code (EXIT_UNDELIVERED when something was not delivered).
   */
  timeoutMs: number;
  /** Default SHUTDOWN_GRACE_MS. */
  graceMs?: number;
  logger: Logger;
  /** Default: flush the logger, then `process.exit(code)`. */
  exit?: (code: number) => void;
  /** Default: SIGTERM (kubelet, systemd) and SIGINT (Ctrl-C). */
  signals?: readonly NodeJS.Signals[];
  /** Default: `process`. */
  source?: SignalSource;
}

export interface ShutdownHandle {
  /**
   * Starts the graceful shutdown without a signal (the source ended, a fatal error): same
   * deadline, then exits with `exitCode` if shutdown succeeded. Later calls return the same promise.
   */
  trigger(reason: string, exitCode?: number): Promise<number>;
  /** Resolves with the exit code just before `exit` is called. */
  readonly done: Promise<number>;
  /** Removes the signal handlers (for tests and embedding). */
  dispose(): void;
}

/**
 * Installs the agent's signal handling, for `podtrace run`:
 * - the first SIGTERM/SIGINT runs `shutdown` with one deadline `timeoutMs` away, shared by every
 *   stage, then exits 0 when everything was flushed, 3 when the deadline held but something was
 *   not delivered (counted), 1 when it failed or wedged past the deadline;
 * - another signal while that runs exits at once with 128 + the signal number.
 */
export function shutdownOnSignal(options: ShutdownOnSignalOptions): ShutdownHandle {
  const log = options.logger;
  const source: SignalSource = options.source ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit =
    options.exit ??
    ((code: number): void => {
      log.flush(() => process.exit(code));
    });

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let running: Promise<number> | undefined;
  let exited = false;

  const finish = (code: number): void => {
    if (exited) return;
    exited = true;
    dispose();
    resolveDone(code);
    exit(code);
  };

  const trigger = (reason: string, exitCode = EXIT_CLEAN): Promise<number> => {
    if (running !== undefined) return running;
    log.info(
      { reason, timeoutMs: options.timeoutMs },
      'shutting down: draining and flushing; a second signal exits at once',
    );
    const deadlineAt = Date.now() + options.timeoutMs;
    running = new Promise<number>((resolve) => {
      const timer = setTimeout(
        () => {
          log.error(
            { timeoutMs: options.timeoutMs },
            'shutdown missed its deadline (shutdown.timeoutMs) and did not finish; buffered events may be lost',
          );
          resolve(EXIT_UNCLEAN);
        },
        options.timeoutMs + (options.graceMs ?? SHUTDOWN_GRACE_MS),
      );
      options.shutdown(reason, deadlineAt).then(
        (code) => {
          clearTimeout(timer);
          log.info('shutdown complete');
          resolve(exitCode !== EXIT_CLEAN ? exitCode : (code ?? EXIT_CLEAN));
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.error({ err, reason: errorMessage(err) }, 'shutdown failed; buffered events may be lost');
          resolve(EXIT_UNCLEAN);
        },
      );
    }).then((code) => {
      finish(code);
      return code;
    });
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running === undefined) {
      void trigger(signal);
      return;
    }
    log.warn({ signal }, 'second signal: exiting at once without waiting for the flush');
    finish(signalExitCode(signal));
  };

  const dispose = (): void => {
    for (const s of signals) source.off(s, onSignal);
  };
  for (const s of signals) source.on(s, onSignal);

  return { trigger, done, dispose };
}
