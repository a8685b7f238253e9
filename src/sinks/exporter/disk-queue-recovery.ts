import { existsSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { Metrics } from '../../telemetry/metrics';
import type { QueuePosition } from './queue-checkpoint';
import { CHECKPOINT_FILE, QueueCheckpoint } from './queue-checkpoint';
import type { FrameDefect } from './segment-file';
import { SEGMENT_HEADER_BYTES } from './segment-file';
import type { Segment } from './segment-scan';
import { listSegments, scanSegment, segmentName } from './segment-scan';

/** Where a disk queue reports what it finds (its `queue` label, metrics, logger). */
export interface QueueReporting {
  stage: string;
  metrics: Metrics;
  logger: Logger;
}

/** What a previous run left in the directory, from the committed position on. */
export interface Leftovers {
  /** Segments still holding unacknowledged records, oldest first. */
  segments: Segment[];
  /** The highest segment index seen or committed: new segments get the next. */
  lastIndex: number;
  /** Where reading starts in the first segment. */
  firstOffset: number;
  records: number;
  events: number;
  /** Bytes of the records to replay (what the queue's bound counts). */
  liveBytes: number;
  /** Bytes of the segment files kept. */
  fileBytes: number;
}

/**
 * Creates the queue directory and opens its checkpoint; a directory that cannot be written is a
 * configuration error naming the key.
 */
export function openQueueDir(dir: string, dirKey: string): QueueCheckpoint {
  try {
    mkdirSync(dir, { recursive: true });
    return new QueueCheckpoint(join(dir, CHECKPOINT_FILE));
  } catch (err) {
    throw new ConfigError(
      `${dirKey}: ${dir} is not a writable directory (${errorMessage(realCause(dir, err))}); ` +
        'mount a writable volume there (the chart mounts a hostPath) or set queue.storage: memory',
    );
  }
}

/** Counts and logs a damaged segment whose rest (from `at`) is skipped. */
export function reportCorrupt(
  seg: Segment,
  defect: FrameDefect | 'header',
  at: number,
  r: QueueReporting,
): void {
  const skipped = seg.bytes - at;
  r.metrics.queueCorrupt.inc({ queue: r.stage, defect });
  r.metrics.queueCorruptBytes.inc({ queue: r.stage }, skipped);
  r.logger.warn(
    { file: seg.path, offset: at, skippedBytes: skipped, defect },
    'disk queue: segment damaged (power loss mid-write?); skipping the rest of it',
  );
}

/**
 * Scans the segments a previous run left: those wholly before the committed position are deleted,
 * the rest are read up to their first defect (counted), and every whole valid record from the
 * committed position on is to be replayed.
 */
export function recoverSegments(dir: string, checkpoint: QueueCheckpoint, r: QueueReporting): Leftovers {
  const cp = checkpoint.read();
  if (cp.kind === 'corrupt') {
    r.metrics.queueCorrupt.inc({ queue: r.stage, defect: 'checkpoint' });
    r.logger.warn(
      { file: checkpoint.path, bytes: cp.bytes },
      'disk queue: committed position unreadable; replaying every segment (events may be sent twice)',
    );
  }
  const from: QueuePosition | null = cp.kind === 'ok' ? cp.position : null;
  // New segments always sort after the committed position, even once every old one is deleted.
  const left: Leftovers = {
    segments: [],
    lastIndex: from?.segment ?? 0,
    firstOffset: SEGMENT_HEADER_BYTES,
    records: 0,
    events: 0,
    liveBytes: 0,
    fileBytes: 0,
  };
  for (const index of listSegments(dir)) {
    left.lastIndex = Math.max(left.lastIndex, index);
    if (from !== null && index < from.segment) {
      unlinkSync(join(dir, segmentName(index)));
      continue;
    }
    const start =
      from !== null && index === from.segment
        ? Math.max(from.offset, SEGMENT_HEADER_BYTES)
        : SEGMENT_HEADER_BYTES;
    const { seg, defect } = scanSegment(dir, index, start);
    left.fileBytes += seg.bytes;
    if (defect !== null) reportCorrupt(seg, defect.kind, defect.at, r);
    if (left.segments.length === 0) left.firstOffset = start;
    left.records += seg.records;
    left.events += seg.events;
    left.liveBytes += seg.valid - start;
    left.segments.push(seg);
  }
  if (left.records > 0) {
    r.metrics.queueRecovered.inc({ queue: r.stage }, left.records);
    r.logger.info(
      { dir, records: left.records, events: left.events },
      'disk queue: replaying what the previous run did not deliver',
    );
  }
  return left;
}

/**
 * A recursive mkdir on a read-only file system fails with ENOENT; the error of creating the
 * first missing directory by itself names the real cause (EROFS, EACCES).
 */
function realCause(dir: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
  let missing = dir;
  while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
  try {
    mkdirSync(missing);
    rmdirSync(missing);
  } catch (inner) {
    return inner;
  }
  return err;
}
