import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { ConfigError, errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { BootClock } from '../events/clock';
import { RecordDecoder } from '../events/decode';
import type { Redactor } from '../events/redact';
import type { CgroupChange, EventBatch, PodtraceEvent } from '../events/event';
import { recordOffsets } from '../events/record-encoder';
import type { Source } from '../pipeline/stages';
import { RecordFileReader, RecordFormatError, mergeCgroupChunk } from '../record/record-reader';
import { ChunkType } from '../record/record-format';
import type { RecordHeader } from '../record/record-format';
import type { Metrics } from '../telemetry/metrics';
import { ReceivedCounter } from './received-counter';
import { replayConfigProblems } from './replay-config';
import type { ReplaySourceConfig } from './replay-config';
import { Pacer, realSourceClock } from './source-clock';
import type { SourceClock } from './source-clock';

export interface ReplaySourceDeps {
  logger: Logger;
  metrics: Metrics;
  /** Redacts secrets in exec argv as records are decoded (the top-level `redact:` section). */
  redactor?: Redactor;
  clock?: SourceClock;
}

export { replayConfigProblems } from './replay-config';

/**
 * Plays a `podtrace record` file through the same RecordDecoder as the live source, with the
 * recording's clock offset, so the decoded events are exactly those the live agent saw. Paced to
 * `rate` events/s (0 = as fast as the pipeline takes them), optionally looping. Completes at the
 * end of the file (without `loop`) or after `shutdown()`.
 */
export class ReplaySource implements Source {
  readonly name = 'replay';
  private readonly subject = new Subject<EventBatch>();
  readonly batches$: Observable<EventBatch> = this.subject.asObservable();
  private readonly abort = new AbortController();
  private readonly clock: SourceClock;
  private readonly paths = new Map<number, string>();
  private reader: RecordFileReader | undefined;
  private decoder: RecordDecoder | undefined;
  private pump: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private loops = 0;

  constructor(
    private readonly config: ReplaySourceConfig,
    private readonly deps: ReplaySourceDeps,
  ) {
    const problems = replayConfigProblems(config);
    if (problems.length > 0) throw new ConfigError(problems);
    this.clock = deps.clock ?? realSourceClock;
  }

  /** The recording's header (after start()). */
  get header(): RecordHeader | undefined {
    return this.reader?.header;
  }

  /** cgroup id → path (relative to the recording node's cgroup2 root), as read so far. */
  get cgroupPaths(): ReadonlyMap<number, string> {
    return this.paths;
  }

  /** Times the file was played to its end. */
  get completedLoops(): number {
    return this.loops;
  }

  async start(): Promise<void> {
    if (this.pump || this.shutdownPromise) return;
    let reader: RecordFileReader;
    try {
      reader = await RecordFileReader.open(this.config.file);
      // One checking pass before anything is played: a corrupt file is refused whole (naming the
      // byte), not half replayed.
      const scan = await reader.scan();
      if (scan.truncatedAt !== null)
        this.deps.logger.warn(
          { file: this.config.file, byte: scan.truncatedAt, chunks: scan.chunks },
          'recording is cut short (the recorder was killed?); replaying up to its last complete chunk',
        );
    } catch (err) {
      if (err instanceof RecordFormatError) throw new ConfigError(`source.replay.file: ${err.message}`);
      throw new ConfigError(`source.replay.file: ${JSON.stringify(this.config.file)}: ${errorMessage(err)}`);
    }
    this.reader = reader;
    const offset = reader.header.clockOffsetNs;
    this.decoder = new RecordDecoder(new BootClock(() => offset), this.deps.redactor);
    this.pump = this.run(reader, this.decoder);
  }

  private async run(reader: RecordFileReader, decoder: RecordDecoder): Promise<void> {
    const signal = this.abort.signal;
    const pacer = new Pacer(this.config.rate, this.clock);
    const counter = new ReceivedCounter(decoder.stats, this.deps.metrics);
    const max = this.config.maxBatchEvents;
    try {
      do {
        for await (const chunk of reader.chunks()) {
          if (signal.aborted) break;
          if (chunk.type === ChunkType.Cgroups) mergeCgroupChunk(chunk.payload, this.paths);
          if (chunk.type !== ChunkType.Batch) continue;
          const offsets = recordOffsets(chunk.payload);
          for (let i = 0; i < offsets.length && !signal.aborted; i += max) {
            const n = Math.min(max, offsets.length - i);
            const end = i + n < offsets.length ? (offsets[i + n] as number) : chunk.payload.length;
            await pacer.take(n, signal);
            const events: PodtraceEvent[] = [];
            const cgroups: CgroupChange[] = [];
            decoder.decode(chunk.payload.subarray(offsets[i], end), events, cgroups);
            counter.update();
            for (const c of cgroups) if (c.op === 'mkdir' && !c.truncated) this.paths.set(c.id, c.path);
            if (cgroups.length > 0) this.subject.next({ events, cgroups });
            else if (events.length > 0) this.subject.next({ events });
          }
        }
        if (!signal.aborted) this.loops++;
      } while (this.config.loop && !signal.aborted);
      this.subject.complete();
    } catch (err) {
      this.deps.logger.error({ err: errorMessage(err) }, 'replay source stopped');
      this.subject.error(err);
    }
  }

  /** Records decoded and malformed so far. */
  get decodeStats(): { records: number; malformed: number } {
    return { records: this.decoder?.stats.records ?? 0, malformed: this.decoder?.stats.malformed ?? 0 };
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.abort.abort();
      if (this.pump) await this.pump;
      else this.subject.complete();
    })();
    return this.shutdownPromise;
  }
}
