import type { PodtraceEvent } from '../events/event';
import type { Finding } from './report-model';

/** What every section sees besides its events. */
export interface SectionContext {
  /** Rows per table. */
  topN: number;
  /** Window length, for rates. */
  durationMs: number;
  /** The probe groups that ran (`source.ebpf.probes`). */
  enabledGroups: ReadonlySet<string>;
}

/**
 * Aggregates one kind of activity over the window, O(distinct keys) memory, then gives a JSON body,
 * the findings it supports and the text lines of its section. `render` and `findings` work from
 * the body alone, so the JSON report carries everything the text shows.
 */
export interface SectionCollector {
  observe(e: PodtraceEvent): void;
  body(ctx: SectionContext): Record<string, unknown>;
  findings(body: Record<string, unknown>, ctx: SectionContext): Finding[];
  render(body: Record<string, unknown>): string[];
}

/**
 * A report section, registered per probe group: the breadth probe groups (dns, file, signal, sched)
 * add theirs to SECTIONS; until then the report lists them as not available.
 */
export interface SectionDefinition {
  id: string;
  title: string;
  /** The probe group whose events feed it (`source.ebpf.probes`). */
  probeGroup: string;
  /** null: the group does not exist in this build yet. */
  create: (() => SectionCollector) | null;
}
