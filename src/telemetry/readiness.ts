import type { ReadinessProbe } from '../core/component';
import { errorMessage } from '../core/errors';
import type { Metrics } from './metrics';

export interface ReadinessCheckResult {
  name: string;
  ready: boolean;
  detail: string;
}

/** What /readyz returns: ready when every registered check is. */
export interface ReadinessReport {
  ready: boolean;
  /** Names of the checks that are not ready, in registration order. */
  failing: string[];
  checks: ReadinessCheckResult[];
}

type CheckFn = () => { ready: boolean; detail: string };

/**
 * The registry behind /readyz. Components register named checks — `ebpf.probes` (programs attached),
 * `enrich.cri` / `enrich.kubernetes` (caches synced), `sinks.otlp` (connected or retrying within
 * bounds) — and the HTTP server evaluates them on each request. A check that throws is not ready.
 * With no checks registered podtrace is ready.
 */
export class Readiness {
  private readonly checks = new Map<string, CheckFn>();
  private readonly healthChecks = new Map<string, CheckFn>();

  constructor(private readonly metrics?: Metrics) {}

  /** Adds a named check; returns a function that removes it. Names are unique. */
  register(name: string, probe: ReadinessProbe | CheckFn): () => void {
    if (this.checks.has(name)) throw new RangeError(`readiness check "${name}" is already registered`);
    const fn: CheckFn = typeof probe === 'function' ? probe : () => probe.ready();
    this.checks.set(name, fn);
    return () => {
      if (this.checks.get(name) === fn) {
        this.checks.delete(name);
        this.metrics?.ready.remove({ check: name });
      }
    };
  }

  /**
   * Adds a named health check that is reported (/healthz detail, `podtrace_component_healthy`) but
   * never makes the pod unready: a sink whose broker or Collector is away is a fact about the
   * peer, and a readiness failure would only stall a DaemonSet rollout on every node.
   */
  registerHealth(name: string, probe: ReadinessProbe | CheckFn): void {
    if (this.healthChecks.has(name)) throw new RangeError(`health check "${name}" is already registered`);
    this.healthChecks.set(name, typeof probe === 'function' ? probe : () => probe.ready());
  }

  /** Runs every health check now; updates `podtrace_component_healthy`. */
  health(): ReadinessCheckResult[] {
    const out: ReadinessCheckResult[] = [];
    for (const [name, fn] of this.healthChecks) {
      let result: { ready: boolean; detail: string };
      try {
        result = fn();
      } catch (err) {
        result = { ready: false, detail: `check failed: ${errorMessage(err)}` };
      }
      out.push({ name, ready: result.ready, detail: result.detail });
      this.metrics?.componentHealthy.set({ component: name }, result.ready ? 1 : 0);
    }
    return out;
  }

  /** Runs every check now. Also updates the `podtrace_ready` gauge when Metrics was given. */
  evaluate(): ReadinessReport {
    const checks: ReadinessCheckResult[] = [];
    for (const [name, fn] of this.checks) {
      let result: { ready: boolean; detail: string };
      try {
        result = fn();
      } catch (err) {
        result = { ready: false, detail: `check failed: ${errorMessage(err)}` };
      }
      checks.push({ name, ready: result.ready, detail: result.detail });
      this.metrics?.ready.set({ check: name }, result.ready ? 1 : 0);
    }
    const failing = checks.filter((c) => !c.ready).map((c) => c.name);
    return { ready: failing.length === 0, failing, checks };
  }
}

/** A check a component flips itself: `probes.set(true, 'process, tcp, oom attached')`. */
export class ReadinessFlag implements ReadinessProbe {
  private state: { ready: boolean; detail: string };

  constructor(detail = 'starting', ready = false) {
    this.state = { ready, detail };
  }

  set(ready: boolean, detail: string): void {
    this.state = { ready, detail };
  }

  ready(): { ready: boolean; detail: string } {
    return this.state;
  }
}

/**
 * Readiness of something that retries (a sink's connection, the Kubernetes watch): ready while the
 * last attempt succeeded, or while it has been failing for no longer than `maxFailingMs`.
 * The clock is injectable so tests need no timers.
 */
export class RetryWindowProbe implements ReadinessProbe {
  private failingSince: number | undefined;
  private lastError = '';
  private everSucceeded = false;

  constructor(
    private readonly maxFailingMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  succeeded(): void {
    this.failingSince = undefined;
    this.everSucceeded = true;
  }

  failed(reason: unknown): void {
    this.failingSince ??= this.now();
    this.lastError = errorMessage(reason);
  }

  ready(): { ready: boolean; detail: string } {
    if (this.failingSince === undefined) {
      return { ready: true, detail: this.everSucceeded ? 'connected' : 'no attempt yet' };
    }
    const failingMs = this.now() - this.failingSince;
    const seconds = (failingMs / 1000).toFixed(1);
    if (failingMs <= this.maxFailingMs)
      return { ready: true, detail: `retrying for ${seconds}s: ${this.lastError}` };
    return {
      ready: false,
      detail: `failing for ${seconds}s (limit ${(this.maxFailingMs / 1000).toFixed(1)}s): ${this.lastError}`,
    };
  }
}
