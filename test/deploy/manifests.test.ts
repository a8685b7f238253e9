import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAPABILITIES, RBAC_RULES } from '../../src/deploy/node-requirements';
import { checkConfigMap, checkDaemonSet, loadObjects } from '../helpers/deploy-checks';
import { k8sSchemaProblems } from '../helpers/k8s-schema';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- Kubernetes objects parsed from YAML are untyped */

const DIR = join(__dirname, '..', '..', 'deploy', 'kubernetes');

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((name) => ({ name, text: readFileSync(join(DIR, name), 'utf8') }));
const objects = loadObjects(files);
const byKind = (kind: string): any => objects.find((o) => o.kind === kind);

describe('deploy/kubernetes', () => {
  describe('.parse', () => {
    it('parses every manifest into named Kubernetes objects', () => {
      expect(objects.map((o) => o.kind).sort()).toEqual(
        ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount'].sort(),
      );
      for (const o of objects) expect(typeof o.metadata.name).toBe('string');
    });

    it('uses only fields the Kubernetes API types define, with the right types', () => {
      expect(objects.flatMap((o) => k8sSchemaProblems(o))).toEqual([]);
    });
  });

  describe('.DaemonSet', () => {
    it('grants the capabilities, mounts and env of node-requirements.ts', () => {
      checkDaemonSet(byKind('DaemonSet'));
    });

    it('explains every capability decision in a comment', () => {
      const text = files.find((f) => f.name === 'daemonset.yaml')!.text;
      for (const c of CAPABILITIES)
        expect({ capability: c.name, commented: new RegExp(`#\\s*${c.name}:`).test(text) }).toEqual({
          capability: c.name,
          commented: true,
        });
    });

    it('runs as the ServiceAccount the ClusterRoleBinding binds', () => {
      const sa = byKind('ServiceAccount');
      const binding = byKind('ClusterRoleBinding');
      const ds = byKind('DaemonSet');
      expect(ds.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: byKind('ClusterRole').metadata.name,
      });
      expect(ds.metadata.namespace).toBe(sa.metadata.namespace);
    });
  });

  describe('.ClusterRole', () => {
    it('allows only get/list/watch on what enrichment reads', () => {
      expect(byKind('ClusterRole').rules).toEqual(RBAC_RULES);
    });
  });

  describe('.ConfigMap', () => {
    it('holds a valid podtrace.yaml that matches the DaemonSet', () => {
      checkConfigMap(byKind('ConfigMap'), byKind('DaemonSet'));
    });
  });
});
