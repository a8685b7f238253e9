/**
 * The `--diagnose` report, as JSON (`--report-format json`) and as the text a person reads. The
 * JSON is versioned by `schema`; fields are only ever added within one version. Documented in
 * docs/diagnose-report.md.
 */
export const REPORT_SCHEMA = 'podtrace.diagnose.v1';

export type Severity = 'critical' | 'warning' | 'notice';

/** One thing that stands out, with the numbers that support it. */
export interface Finding {
  severity: Severity;
  /** The section it comes from (`processes`, `tcp`, …). */
  section: string;
  message: string;
  numbers: Record<string, number | string>;
}

export interface ReportPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  owner: { kind: string; name: string } | null;
  containers: { name: string; image: string; state: string; id: string | null }[];
  hostNetwork: boolean | null;
  resolvedBy: string;
  runtime: string | null;
}

export interface ReportWindow {
  /** ISO 8601 UTC. */
  start: string;
  end: string;
  durationMs: number;
  requestedMs: number;
  /** true when Ctrl-C (or SIGTERM) ended the window before `requestedMs`. */
  stoppedEarly: boolean;
}

export interface ReportEvents {
  /** Events of this pod in the window. */
  total: number;
  /** By event name (`process.exec`, `tcp.connect`, …). */
  byName: Record<string, number>;
  /** Records the kernel could not write to the ring buffer (all processes, not only this pod's), by kind. */
  kernelLost: Record<string, number>;
  /** Events whose cgroup could not be attributed to any pod (possibly this pod's). */
  unattributed: number;
}

/** A section whose probe group ran: its body is section-specific (see the section's module). */
export interface AvailableSection {
  id: string;
  title: string;
  probeGroup: string;
  available: true;
  body: Record<string, unknown>;
}

/** A section whose probe group does not exist in this build or was not enabled. */
export interface UnavailableSection {
  id: string;
  title: string;
  probeGroup: string;
  available: false;
  reason: string;
}

export type ReportSection = AvailableSection | UnavailableSection;

export interface DiagnoseReport {
  schema: typeof REPORT_SCHEMA;
  generatedAt: string;
  pod: ReportPod;
  window: ReportWindow;
  events: ReportEvents;
  findings: Finding[];
  sections: ReportSection[];
}
