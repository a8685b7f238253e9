import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * podtrace's self-metrics, one registry for the agent. Every stage counts what it received,
 * dropped (with a reason), retried and exported. Every metric is documented in
 * docs/operations.md#metrics: add a row there when you add one here (a test checks it).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsReceived = new Counter({
    name: 'podtrace_events_received_total',
    help: 'Events decoded from the source, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly kernelLost = new Gauge({
    name: 'podtrace_kernel_lost_events',
    help: 'Events the BPF programs could not reserve in the ring buffer since start, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'podtrace_rate_limited_events_total',
    help: 'Events the kernel did not record because their cgroup was over source.ebpf.rateLimit, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly scopeFiltered = new Counter({
    name: 'podtrace_scope_filtered_events_total',
    help: 'Events the kernel did not record because the in-kernel scope (filter.*) excludes their cgroup, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly kernelUntracked = new Counter({
    name: 'podtrace_kernel_untracked_total',
    help: 'Requests the kernel could not track because its in-flight table was full (dns queries), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly kernelUnparsed = new Counter({
    name: 'podtrace_kernel_unparsed_total',
    help: 'Messages the kernel saw but could not follow (dns over TCP split before its header, pipelined queries), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'podtrace_dropped_total',
    help: 'Events or spans dropped after the kernel, by stage and reason',
    labelNames: ['stage', 'reason'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'podtrace_queue_depth',
    help: 'Items waiting in a bounded queue',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queueRecovered = new Counter({
    name: 'podtrace_queue_recovered_items_total',
    help: 'Items a disk queue found from the previous run at start and sends again',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queueCorrupt = new Counter({
    name: 'podtrace_queue_corrupt_total',
    help: 'Damaged disk queue files (truncated, crc, length, header, checkpoint); the rest of a damaged segment is skipped',
    labelNames: ['queue', 'defect'] as const,
    registers: [this.registry],
  });
  readonly queueCorruptBytes = new Counter({
    name: 'podtrace_queue_corrupt_bytes_total',
    help: 'Bytes of damaged disk queue segments skipped',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly queueDiskBytes = new Gauge({
    name: 'podtrace_queue_disk_bytes',
    help: "Bytes of a disk queue's segment files",
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });
  readonly enrichment = new Counter({
    name: 'podtrace_enrichment_total',
    help: 'Enrichment outcomes per event (complete, partial, none)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly enrichmentLatency = new Histogram({
    name: 'podtrace_enrichment_resolve_seconds',
    help: 'Time to resolve a new cgroup to its container and pod',
    buckets: [0.0001, 0.001, 0.005, 0.02, 0.1, 0.5, 2, 5],
    registers: [this.registry],
  });
  readonly cgroupResolutions = new Counter({
    name: 'podtrace_cgroup_resolutions_total',
    help: 'cgroup id to path resolutions, by how they were answered (kernel, walk, proc, miss)',
    labelNames: ['via'] as const,
    registers: [this.registry],
  });
  readonly componentHealthy = new Gauge({
    name: 'podtrace_component_healthy',
    help: 'Health of components that do not gate readiness (sinks): 1 healthy, 0 not',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  readonly lookupErrors = new Counter({
    name: 'podtrace_metadata_errors_total',
    help: 'Errors talking to the CRI runtime or the Kubernetes API',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });
  /** One counter for every bounded cache: cgroup_paths, cgroup_entries (enrich.maxCgroups), owners. */
  readonly cacheEvictions = new Counter({
    name: 'podtrace_cache_evictions_total',
    help: 'Entries a bounded cache evicted, by cache (cgroup_paths, cgroup_entries, owners) and reason (rmdir, lru)',
    labelNames: ['cache', 'reason'] as const,
    registers: [this.registry],
  });
  readonly sinkExported = new Counter({
    name: 'podtrace_sink_exported_total',
    help: 'Items (spans, records, lines) a sink delivered',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  /** The same deliveries counted in events (a Kafka otlp_proto record or an OTLP request stands for many). */
  readonly sinkExportedEvents = new Counter({
    name: 'podtrace_sink_exported_events_total',
    help: 'Events whose items a sink delivered (an event exported to two Kafka topics counts twice)',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  readonly sinkRetried = new Counter({
    name: 'podtrace_sink_retried_total',
    help: 'Export attempts retried',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });
  readonly sinkFailed = new Counter({
    name: 'podtrace_sink_failed_total',
    help: 'Export attempts that failed',
    labelNames: ['sink', 'reason'] as const,
    registers: [this.registry],
  });
  readonly sinkExportLatency = new Histogram({
    name: 'podtrace_sink_export_seconds',
    help: 'Export call latency',
    labelNames: ['sink'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [this.registry],
  });

  readonly ready = new Gauge({
    name: 'podtrace_ready',
    help: 'Readiness check state as last evaluated (1 ready, 0 not ready), by check',
    labelNames: ['check'] as const,
    registers: [this.registry],
  });
  readonly telemetryRequests = new Counter({
    name: 'podtrace_telemetry_requests_total',
    help: 'Requests to the self-telemetry HTTP server, by path and status code',
    labelNames: ['path', 'code'] as const,
    registers: [this.registry],
  });

  /** `defaultMetrics: true` adds process CPU, RSS, heap, event-loop lag and GC (prefixed `podtrace_`). */
  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? false)
      collectDefaultMetrics({ register: this.registry, prefix: 'podtrace_' });
  }

  /** Counts `n` dropped items at `stage` for `reason`. */
  drop(stage: string, reason: string, n = 1): void {
    if (n > 0) this.dropped.inc({ stage, reason }, n);
  }

  /** Sum of drops for a stage (and reason), read back for summaries and loss records. */
  async droppedCount(stage?: string, reason?: string): Promise<number> {
    const data = await this.dropped.get();
    return data.values
      .filter(
        (v) =>
          (stage === undefined || v.labels.stage === stage) &&
          (reason === undefined || v.labels.reason === reason),
      )
      .reduce((sum, v) => sum + v.value, 0);
  }
}
