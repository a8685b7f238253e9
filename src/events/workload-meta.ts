/**
 * What enrichment knows about the container an event came from. One frozen object per
 * container, shared by all its events; sinks read it, nobody mutates it.
 * `attributes` already holds the OpenTelemetry semantic-convention keys (k8s.*, container.*,
 * service.name, service.namespace, k8s.pod.label.*) so sinks need no mapping of their own.
 */
export interface WorkloadMeta {
  /** true for host processes (root cgroup, system slices). */
  readonly host: boolean;
  readonly namespace: string | null;
  readonly podName: string | null;
  readonly podUid: string | null;
  readonly containerName: string | null;
  /** Full 64-hex container id. */
  readonly containerId: string | null;
  readonly serviceName: string;
  readonly serviceNamespace: string;
  /** Flat OTel attributes: k8s.node.name, k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.container.name, container.id, container.image.name, container.runtime.name, owner names, k8s.pod.label.<key>, service.name, service.namespace. */
  readonly attributes: Readonly<Record<string, string>>;
}
