import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metrics } from '../../src/telemetry/metrics';

describe('Metrics', () => {
  describe('.documentation', () => {
    it('has a row in docs/operations.md for every metric it registers', async () => {
      const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
      const names = (await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name);
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
    });

    it('documents the process CPU and RSS metrics it adds with defaultMetrics', async () => {
      const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
      const names = (await new Metrics({ defaultMetrics: true }).registry.getMetricsAsJSON()).map(
        (m) => m.name,
      );
      for (const name of ['podtrace_process_cpu_seconds_total', 'podtrace_process_resident_memory_bytes']) {
        expect(names).toContain(name);
        expect(doc).toContain(`\`${name}\``);
      }
    });
  });
});
