import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/** This boot's id, the seed of deterministic span ids; a random one (logged) when unreadable. */
export function readBootId(logger: Logger): string {
  try {
    return readFileSync(BOOT_ID_PATH, 'utf8').trim();
  } catch (err) {
    const fallback = randomUUID();
    logger.warn(
      { err: errorMessage(err), fallback },
      `cannot read ${BOOT_ID_PATH}: span ids are stable only within this run`,
    );
    return fallback;
  }
}
