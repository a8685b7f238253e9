import type { Logger } from '../../core/logger';
import type { SendFailure } from './send-outcome';

interface KeyHealth {
  since: number;
  /** A give-up was logged in this failing streak (later ones are only counted). */
  loggedDrop: boolean;
}

/**
 * Which keys of an exporter are failing, since when and why: logs the first failure and the first
 * give-up of each streak (with the transport's hint on what to do) and the recovery, once each.
 */
export class ExportHealth {
  private readonly keys = new Map<string, KeyHealth>();
  private downSince = 0;
  private lastError: string | null = null;

  constructor(private readonly log: Logger) {}

  /** When the endpoint itself became unreachable (a `bounded: false` failure), or null while it answers. */
  get unreachableSince(): number | null {
    return this.downSince === 0 ? null : this.downSince;
  }

  /** The oldest failing streak with the last error, or null when every key delivers. */
  failing(): { since: number; error: string } | null {
    let since = Infinity;
    for (const k of this.keys.values()) if (k.since < since) since = k.since;
    return since === Infinity ? null : { since, error: this.lastError ?? '' };
  }

  failed(key: string, failure: SendFailure, queued: number): void {
    this.lastError = failure.message;
    if (failure.kind === 'retry' && failure.bounded === false && this.downSince === 0)
      this.downSince = Date.now();
    if (this.keys.has(key)) return;
    this.keys.set(key, { since: Date.now(), loggedDrop: false });
    this.log.warn(
      { key: key || undefined, err: failure.message, hint: failure.hint, queued },
      failure.kind === 'retry' ? 'export failing; queueing and retrying' : 'export failing',
    );
  }

  gaveUp(key: string, events: number, reason: string, failure: SendFailure): void {
    const fields = { key: key || undefined, events, reason, err: failure.message, hint: failure.hint };
    const k = this.keys.get(key);
    if (k !== undefined && k.loggedDrop) {
      this.log.debug(fields, 'export dropped a batch');
      return;
    }
    if (k !== undefined) k.loggedDrop = true;
    this.log.error(
      fields,
      'export gave up on a batch and dropped it; further drops of this key are only counted',
    );
  }

  delivered(key: string, queued: number): void {
    this.downSince = 0;
    const k = this.keys.get(key);
    if (k === undefined) return;
    this.keys.delete(key);
    this.log.info({ key: key || undefined, failedForMs: Date.now() - k.since, queued }, 'export recovered');
    if (this.keys.size === 0) this.lastError = null;
  }
}
