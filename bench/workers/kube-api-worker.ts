/**
 * The test Kubernetes API server (test/helpers/kube-api-server.ts) in its own process, so that
 * the objects it holds do not count in the enricher's RSS: `nodePods` pods on `node`, owned by
 * ReplicaSets (10 pods each, 4 in 5 pods) and Jobs (10 pods each), inside a cluster of
 * `clusterReplicaSets` ReplicaSets and `clusterJobs` Jobs in all. Serves https with a throwaway CA
 * and prints, when ready, `{"kubeconfig":…,"serviceAccountDir":…,"port":…}`: a kubeconfig for it and
 * a service account mount (token, ca.crt) as the kubelet makes one, for the in-cluster path. On a
 * line on stdin prints what it was asked for (`{"requests":…}`) and exits.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeTestCa } from '../../test/helpers/test-ca';
import { KubeApiServer, ownedObject, podObject } from '../../test/helpers/kube-api-server';

export interface KubeApiArgs {
  node: string;
  nodePods: number;
  clusterReplicaSets: number;
  clusterJobs: number;
}

export interface KubeApiReport {
  /** list or watch of replicasets / jobs (any namespace): the design this bench guards against. */
  ownerListsAndWatches: number;
  ownerGets: number;
  ownerGetsMetadataOnly: number;
  podRequests: number;
  objects: { pods: number; replicaSets: number; jobs: number };
}

export const PODS_PER_OWNER = 10;

/** Pod `p` of the node: its namespace and owner (the bench's memory worker derives the same). */
export function nodePodOwner(p: number): { namespace: string; kind: 'ReplicaSet' | 'Job'; name: string } {
  const group = Math.floor(p / PODS_PER_OWNER);
  const namespace = `team-${group % 20}`;
  return p % 5 === 4
    ? { namespace, kind: 'Job', name: `node-job-${group}` }
    : { namespace, kind: 'ReplicaSet', name: `node-rs-${group}` };
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as KubeApiArgs;
  const ca = makeTestCa();
  const api = new KubeApiServer({
    cert: ca.file('server.crt'),
    key: ca.file('server.key'),
    ca: ca.file('ca.crt'),
  });
  const serviceAccountDir = join(ca.dir, 'serviceaccount');
  mkdirSync(serviceAccountDir);
  writeFileSync(join(serviceAccountDir, 'token'), 'test-token');
  copyFileSync(ca.file('ca.crt'), join(serviceAccountDir, 'ca.crt'));
  void api.start().then(() => {
    const rs = new Set<string>();
    const jobs = new Set<string>();
    for (let p = 0; p < args.nodePods; p++) {
      const o = nodePodOwner(p);
      const key = `${o.namespace}/${o.name}`;
      const seen = o.kind === 'Job' ? jobs : rs;
      if (!seen.has(key)) {
        seen.add(key);
        api.upsert(
          o.kind === 'Job' ? '/apis/batch/v1/jobs' : '/apis/apps/v1/replicasets',
          ownedObject(o.name, o.namespace, {
            kind: o.kind === 'Job' ? 'CronJob' : 'Deployment',
            name: o.name.replace(/^node-(rs|job)-/, 'app-'),
          }),
        );
      }
      api.upsert(
        '/api/v1/pods',
        podObject({
          name: `${o.name}-${p}`,
          namespace: o.namespace,
          uid: podUidOf(p),
          nodeName: args.node,
          labels: {
            app: o.name,
            'app.kubernetes.io/version': '1.2.3',
            tier: p % 2 === 0 ? 'backend' : 'web',
          },
          annotations: { 'prometheus.io/scrape': 'true' },
          owner: { kind: o.kind, name: o.name },
          containers: [
            { name: 'main', image: `registry.example/${o.name}:1.2.3`, id: containerIdOf(p, 0) },
            { name: 'sidecar', image: 'registry.example/proxy:2.0', id: containerIdOf(p, 1) },
          ],
        }),
      );
    }
    // The rest of the cluster: owners of pods on other nodes.
    for (let i = rs.size; i < args.clusterReplicaSets; i++)
      api.upsert(
        '/apis/apps/v1/replicasets',
        ownedObject(`svc-${i}-5c9d7b`, `ns-${i % 300}`, { kind: 'Deployment', name: `svc-${i}` }),
      );
    for (let i = jobs.size; i < args.clusterJobs; i++)
      api.upsert(
        '/apis/batch/v1/jobs',
        ownedObject(`batch-${i}-28913`, `ns-${i % 300}`, { kind: 'CronJob', name: `batch-${i}` }),
      );
    const port = Number(new URL(api.url).port);
    process.stdout.write(
      `${JSON.stringify({ kubeconfig: api.writeKubeconfig(), serviceAccountDir, port })}\n`,
    );
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => {
      const owners = [
        ...api.requestsFor('/apis/apps/v1/replicasets'),
        ...api.requestsFor('/apis/batch/v1/jobs'),
      ];
      const report: KubeApiReport = {
        ownerListsAndWatches: owners.filter((r) => r.verb !== 'get').length,
        ownerGets: owners.filter((r) => r.verb === 'get').length,
        ownerGetsMetadataOnly: owners.filter((r) => r.verb === 'get' && r.metadataOnly).length,
        podRequests: api.requestsFor('/api/v1/pods').length,
        objects: {
          pods: api.size('/api/v1/pods'),
          replicaSets: api.size('/apis/apps/v1/replicasets'),
          jobs: api.size('/apis/batch/v1/jobs'),
        },
      };
      process.stdout.write(`${JSON.stringify({ requests: report })}\n`);
      rl.close();
      void api.stop().then(() => {
        ca.remove();
        process.exit(0);
      });
    });
  });
}

export function podUidOf(p: number): string {
  return `00000000-0000-4000-8000-${p.toString(16).padStart(12, '0')}`;
}

export function containerIdOf(p: number, c: number): string {
  return `${(p * 2 + c).toString(16).padStart(16, '0')}${'c'.repeat(48)}`;
}

if (require.main === module) main();
