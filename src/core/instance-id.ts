import { randomUUID } from 'node:crypto';

let current: string | undefined;

/**
 * This agent run's identity, `podtrace.instance.id`: a random UUID, new on every start, the same
 * for every sink of the run. With `event.seq` (which restarts at 1 on every start) it tells runs
 * apart: a gap in seq within one instance id is loss; a new instance id is a restart.
 */
export function agentInstanceId(): string {
  current ??= randomUUID();
  return current;
}
