import type { PodtraceEvent } from '../events/event';
import { eventName } from '../events/event-kind';
import type { PodTarget } from '../target/pod-target';
import type { DiagnoseReport, Finding, ReportEvents, ReportSection, ReportWindow } from './report-model';
import { REPORT_SCHEMA } from './report-model';
import type { SectionCollector, SectionContext, SectionDefinition } from './section';
import { SECTIONS } from './sections';

/** Rows per table by default. */
export const DEFAULT_TOP_N = 10;

const SEVERITY_ORDER = { critical: 0, warning: 1, notice: 2 } as const;

/**
 * Collects one pod's events over the `--diagnose` window into the report: every event goes to
 * every section that runs (each keeps O(distinct keys)); `build()` makes bodies, findings (sorted
 * by severity, then section order) and the header.
 */
export class ReportBuilder {
  private readonly running: { def: SectionDefinition; collector: SectionCollector }[] = [];
  private readonly byName: Record<string, number> = {};
  private total = 0;

  constructor(
    private readonly enabledGroups: ReadonlySet<string>,
    private readonly topN = DEFAULT_TOP_N,
    private readonly sections: readonly SectionDefinition[] = SECTIONS,
  ) {
    for (const def of sections)
      if (def.create !== null && enabledGroups.has(def.probeGroup))
        this.running.push({ def, collector: def.create() });
  }

  observe(events: readonly PodtraceEvent[]): void {
    for (const e of events) {
      this.total++;
      const n = eventName(e.kind);
      this.byName[n] = (this.byName[n] ?? 0) + 1;
      for (const s of this.running) s.collector.observe(e);
    }
  }

  build(input: {
    target: PodTarget;
    window: ReportWindow;
    kernelLost: Record<string, number>;
    unattributed: number;
    /** Requested groups none of whose probes attached, with the kernel's reason. */
    unattached?: Readonly<Record<string, string>>;
    now?: Date;
  }): DiagnoseReport {
    const ctx: SectionContext = {
      topN: this.topN,
      durationMs: input.window.durationMs,
      enabledGroups: this.enabledGroups,
    };
    const findings: Finding[] = [];
    const sections: ReportSection[] = this.sections.map((def) => {
      const run = this.running.find((r) => r.def === def);
      const unattached = input.unattached?.[def.probeGroup];
      if (run !== undefined && unattached !== undefined)
        return {
          id: def.id,
          title: def.title,
          probeGroup: def.probeGroup,
          available: false,
          reason: `group not available: probe group "${def.probeGroup}" did not attach on this kernel (${unattached})`,
        };
      if (run === undefined)
        return {
          id: def.id,
          title: def.title,
          probeGroup: def.probeGroup,
          available: false,
          reason:
            def.create === null
              ? `group not available: probe group "${def.probeGroup}" is not in this podtrace build`
              : `probe group "${def.probeGroup}" not enabled (add it with --probes)`,
        };
      const body = run.collector.body(ctx);
      findings.push(...run.collector.findings(body, ctx));
      return { id: def.id, title: def.title, probeGroup: def.probeGroup, available: true, body };
    });
    // By severity; within one, in section order (stable sort), each section's own order.
    findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
    const t = input.target;
    const events: ReportEvents = {
      total: this.total,
      byName: { ...this.byName },
      kernelLost: input.kernelLost,
      unattributed: input.unattributed,
    };
    return {
      schema: REPORT_SCHEMA,
      generatedAt: (input.now ?? new Date()).toISOString(),
      pod: {
        namespace: t.namespace,
        name: t.name,
        uid: t.uid,
        node: t.node,
        owner: t.owner,
        containers: t.containers.map((c) => ({ name: c.name, image: c.image, state: c.state, id: c.id })),
        hostNetwork: t.hostNetwork,
        resolvedBy: t.resolvedBy,
        runtime: t.runtime,
      },
      window: input.window,
      events,
      findings,
      sections,
    };
  }

  /** Renders a section body of a built report as text lines (the section's own renderer). */
  static render(section: ReportSection, sections: readonly SectionDefinition[] = SECTIONS): string[] {
    if (!section.available) return [`  ${section.reason}`];
    const def = sections.find((d) => d.id === section.id);
    const collector = def?.create?.() ?? null;
    return collector === null ? [] : collector.render(section.body);
  }
}
