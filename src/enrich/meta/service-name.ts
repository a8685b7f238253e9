/** The annotation a user sets to name the service explicitly (OpenTelemetry convention). */
export const SERVICE_NAME_ANNOTATION = 'resource.opentelemetry.io/service.name';

/**
 * service.name for a pod, first match wins: the annotation `resource.opentelemetry.io/service.name`,
 * label `app.kubernetes.io/instance`, label `app.kubernetes.io/name`, the owning workload's name
 * (Deployment, StatefulSet, DaemonSet, CronJob, Job, ...), the pod name.
 */
export function deriveServiceName(input: {
  annotations: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  workloadName: string | null;
  podName: string;
}): string {
  const nonEmpty = (v: string | undefined): v is string => v !== undefined && v !== '';
  const a = input.annotations[SERVICE_NAME_ANNOTATION];
  if (nonEmpty(a)) return a;
  const inst = input.labels['app.kubernetes.io/instance'];
  if (nonEmpty(inst)) return inst;
  const name = input.labels['app.kubernetes.io/name'];
  if (nonEmpty(name)) return name;
  if (nonEmpty(input.workloadName ?? undefined)) return input.workloadName as string;
  return input.podName;
}
