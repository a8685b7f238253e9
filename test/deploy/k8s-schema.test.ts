import { k8sSchemaProblems } from '../helpers/k8s-schema';

describe('k8sSchemaProblems', () => {
  it('accepts a well-formed object', () => {
    expect(
      k8sSchemaProblems({
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'x', labels: { a: 'b' } },
        data: { k: 'v' },
      }),
    ).toEqual([]);
  });

  it('names a misspelt field and a wrongly typed value with their paths', () => {
    const ds = {
      kind: 'DaemonSet',
      spec: {
        template: {
          spec: {
            hostPID: 'yes',
            containers: [{ name: 'c', securityContext: { readOnlyRootFilesytem: true } }],
          },
        },
      },
    };
    expect(k8sSchemaProblems(ds)).toEqual([
      'DaemonSet.spec.template.spec.hostPID: "yes" is not a boolean',
      'DaemonSet.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem: unknown field of V1SecurityContext',
    ]);
  });
});
