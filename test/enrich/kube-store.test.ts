import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger';
import { KubeStore } from '../../src/enrich/kube/kube-store';
import { Metrics } from '../../src/telemetry/metrics';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';
import { enrichConfig, until } from './enrich-fixtures';

const NODE = 'node-1';

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ destination: stream, level: 'debug', format: 'json' });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('KubeStore', () => {
  let api: KubeApiServer;

  beforeEach(async () => {
    api = new KubeApiServer();
    await api.start();
    api.upsert(
      '/apis/apps/v1/replicasets',
      ownedObject('web-1', 'shop', { kind: 'Deployment', name: 'web' }),
    );
    api.upsert('/api/v1/pods', podObject({ name: 'web-1-a', namespace: 'shop', uid: 'u-1', nodeName: NODE }));
  });

  afterEach(async () => {
    await api.stop();
  });

  describe('.stop', () => {
    it('stops its open watches without logging them as failed', async () => {
      const log = capture();
      const metrics = new Metrics();
      const store = new KubeStore(
        enrichConfig({ kubernetes: { kubeconfig: api.writeKubeconfig(), resolveOwners: true } }).kubernetes,
        NODE,
        60_000,
        { logger: log.logger, metrics },
      );
      await store.start();
      await until(() => store.synced && store.podByUid('u-1') !== undefined, 'the pod list');
      // The pods watch is open now (owners are named GETs, no watch); stop aborts it.
      await store.stop();
      await new Promise((r) => setTimeout(r, 100));
      expect(log.lines().filter((l) => l.includes('watch failed'))).toEqual([]);
      const errors = await metrics.registry.getSingleMetricAsString('podtrace_metadata_errors_total');
      expect(errors).not.toMatch(/backend="kubernetes"[^\n]* [1-9]/);
    });

    it('still logs a watch that fails while running', async () => {
      const log = capture();
      const store = new KubeStore(
        enrichConfig({ kubernetes: { kubeconfig: api.writeKubeconfig(), resolveOwners: false } }).kubernetes,
        NODE,
        60_000,
        { logger: log.logger, metrics: new Metrics() },
      );
      await store.start();
      await until(() => store.synced, 'the pod list');
      api.down();
      await until(() => log.lines().some((l) => l.includes('watch failed')), 'a watch failure');
      await store.stop();
    });
  });
});
