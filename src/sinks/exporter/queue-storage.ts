import { relative, resolve } from 'node:path';

/** Where a sink's queue lives: `memory` (the default) or `disk` (segment files under `queue.dir`). */
export type QueueStorage = 'memory' | 'disk';
export const QUEUE_STORAGES: readonly QueueStorage[] = ['memory', 'disk'];
export const DEFAULT_QUEUE_STORAGE: QueueStorage = 'memory';
/** The hostPath the DaemonSet and the chart mount; each sink has its own directory under it. */
export const QUEUE_DIR_BASE = '/var/lib/podtrace/queue';
/** The disk queue's default bound: 1 GiB, ~10 minutes of 5,000 ev/s of Kafka json records. */
export const DEFAULT_DISK_QUEUE_MAX_BYTES = 1024 * 1024 * 1024;
/** Smallest disk bound: segments are a 16th of it, at least 64 KiB. */
export const MIN_DISK_QUEUE_MAX_BYTES = 1024 * 1024;

/** The default `queue.dir` of a sink. */
export function defaultQueueDir(sink: string): string {
  return `${QUEUE_DIR_BASE}/${sink}`;
}

/** Schema of `queue.storage` and `queue.dir` (merged into each sink's `queue` section). */
export function queueStorageSchema(sink: string): Record<string, unknown> {
  return {
    storage: { enum: [...QUEUE_STORAGES], default: DEFAULT_QUEUE_STORAGE },
    dir: { type: 'string', minLength: 1, default: defaultQueueDir(sink) },
  };
}

export interface DiskQueueSetting {
  /** The YAML key of the directory, e.g. `sinks.kafka.queue.dir`. */
  key: string;
  storage: QueueStorage;
  dir: string;
}

/**
 * Two disk queues must never share a directory (or nest one in the other: the OTLP sink keeps
 * `traces/` and `logs/` under its own): one problem naming both keys per overlapping pair.
 */
export function queueDirProblems(settings: readonly DiskQueueSetting[]): string[] {
  const disk = settings.filter((s) => s.storage === 'disk');
  const problems: string[] = [];
  for (let i = 0; i < disk.length; i++)
    for (let j = i + 1; j < disk.length; j++) {
      const a = disk[i]!;
      const b = disk[j]!;
      if (nested(resolve(a.dir), resolve(b.dir)) || nested(resolve(b.dir), resolve(a.dir)))
        problems.push(
          `${a.key} and ${b.key}: both disk queues use ${a.dir === b.dir ? a.dir : `${a.dir} and ${b.dir}`}; give each sink its own directory`,
        );
    }
  return problems;
}

function nested(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}
