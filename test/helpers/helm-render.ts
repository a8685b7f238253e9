import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderTemplate } from './helm-lite';
import type { RenderContext } from './helm-lite';
import { loadObjects } from './deploy-checks';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects parsed from YAML are untyped */

export const CHART_DIR = join(__dirname, '..', '..', 'deploy', 'helm', 'podtrace');

export const chartMeta = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
export const chartDefaults = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));

/** Values merged as `--set` / `-f` merge them: objects key by key, anything else replaced. */
export function mergeValues(base: any, over: any): any {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base?.[k], v);
  return out;
}

/** Renders every template like `helm template podtrace deploy/helm/podtrace -n podtrace --set ...`. */
export function renderChart(values: any = {}): any[] {
  const ctx: RenderContext = {
    Values: mergeValues(chartDefaults, values),
    Release: { Name: 'podtrace', Namespace: 'podtrace', Service: 'Helm' },
    Chart: { Name: chartMeta.name, Version: chartMeta.version, AppVersion: chartMeta.appVersion },
  };
  const dir = join(CHART_DIR, 'templates');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((name) => ({ name, text: renderTemplate(readFileSync(join(dir, name), 'utf8'), ctx) }));
  return loadObjects(files);
}
