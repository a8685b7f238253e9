import type { Logger } from './logger';

/**
 * Warnings that are known, harmless and not the operator's to fix, logged at debug:
 * kafkajs's request queue arms its throttle check with `throttledUntil - Date.now()` even when it is
 * not throttled, a negative delay that Node clamps to 1 ms and reports once per process.
 */
const DEBUG_ONLY = new Set(['TimeoutNegativeWarning']);

/**
 * Routes Node's process warnings through the logger instead of Node's default writer, which prints
 * multi-line non-JSON text on stderr and breaks a JSON log stream. Each distinct warning (name +
 * message) is logged once. Returns a function that restores the previous listeners.
 */
export function routeProcessWarnings(logger: Logger, proc: NodeJS.Process = process): () => void {
  const previous = proc.listeners('warning');
  proc.removeAllListeners('warning');
  const log = logger.child({ component: 'node' });
  const seen = new Set<string>();
  const onWarning = (w: Error & { code?: string }): void => {
    const id = `${w.name}: ${w.message}`;
    if (seen.has(id)) return;
    seen.add(id);
    const fields = { warning: w.name, code: w.code };
    if (DEBUG_ONLY.has(w.name)) log.debug(fields, w.message);
    else log.warn(fields, w.message);
  };
  proc.on('warning', onWarning);
  return () => {
    proc.off('warning', onWarning);
    for (const l of previous) proc.on('warning', l);
  };
}
