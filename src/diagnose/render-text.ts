import type { DiagnoseReport } from './report-model';
import { ReportBuilder } from './report-builder';

const MARK = { critical: '!!', warning: ' !', notice: ' -' } as const;

/** The report as a person reads it, top to bottom: pod, window, findings, then each section. */
export function renderReportText(r: DiagnoseReport): string {
  const p = r.pod;
  const lines: string[] = [];
  lines.push(`podtrace diagnose: pod ${p.namespace}/${p.name}`);
  lines.push(`  node        ${p.node}`);
  lines.push(
    `  owner       ${p.owner === null ? (p.resolvedBy === 'cri' ? 'unknown (no Kubernetes API)' : 'none (bare pod)') : `${p.owner.kind}/${p.owner.name}`}`,
  );
  lines.push(`  uid         ${p.uid}`);
  for (const [i, c] of p.containers.entries())
    lines.push(
      `  ${i === 0 ? 'containers' : '          '}  ${c.name} (${c.image || 'image unknown'}, ${c.state})`,
    );
  if (p.containers.length === 0) lines.push('  containers  none');
  lines.push(
    `  network     ${p.hostNetwork === null ? 'unknown' : p.hostNetwork ? 'host network' : 'own network namespace'}; resolved by ${p.resolvedBy}${p.runtime !== null ? ` (${p.runtime})` : ''}`,
  );
  const w = r.window;
  lines.push(
    `  window      ${w.start} → ${w.end.slice(11)} (${(w.durationMs / 1000).toFixed(1)} s${w.stoppedEarly ? `, stopped early of ${(w.requestedMs / 1000).toFixed(1)} s` : ''})`,
  );
  const kinds = Object.entries(r.events.byName)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lost = Object.values(r.events.kernelLost).reduce((a, n) => a + n, 0);
  lines.push(`  events      ${r.events.total}${kinds !== '' ? ` (${kinds})` : ''}`);
  lines.push(
    `  losses      ${lost} lost in the kernel ring buffer (all processes), ${r.events.unattributed} events not attributable to any pod`,
  );
  lines.push('');
  lines.push('Findings');
  if (r.findings.length === 0) lines.push('   - nothing stands out in this window');
  for (const f of r.findings) lines.push(`  ${MARK[f.severity]} ${f.message}`);
  for (const s of r.sections) {
    lines.push('');
    lines.push(s.title);
    lines.push(...ReportBuilder.render(s));
  }
  lines.push('');
  lines.push(`(${r.schema}, generated ${r.generatedAt})`);
  return `${lines.join('\n')}\n`;
}
