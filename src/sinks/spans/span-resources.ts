import type { Attributes } from '../../events/event-attributes';
import type { PodtraceEvent } from '../../events/event';
import type { WorkloadMeta } from '../../events/workload-meta';
import type { SpanResource } from './span-model';

export interface SpanResourcesOptions {
  /** `host.name` on every resource. */
  hostName: string;
  /** `k8s.node.name` on every resource. */
  nodeName: string;
  /** Added to every resource (from OTEL_RESOURCE_ATTRIBUTES); podtrace's own keys win on conflict. */
  extraAttributes?: Readonly<Record<string, string>>;
  /** `podtrace.instance.id` on every resource: the agent run that observed the span. */
  instanceId?: string;
  /** Host / unknown executables remembered (one resource each); the oldest is forgotten past this. */
  maxExecutables?: number;
}

export const DEFAULT_MAX_EXECUTABLE_RESOURCES = 1024;
export const HOST_SERVICE_NAMESPACE = 'host';

/**
 * Parses `OTEL_RESOURCE_ATTRIBUTES` (`key1=value1,key2=value2`, values percent-encoded).
 * Malformed entries are skipped, as the OpenTelemetry SDKs do; they are returned in `rejected`.
 */
export function parseResourceAttributes(text: string | undefined): {
  attributes: Record<string, string>;
  rejected: string[];
} {
  const attributes: Record<string, string> = {};
  const rejected: string[] = [];
  if (text === undefined) return { attributes, rejected };
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (key === '') {
      rejected.push(entry);
      continue;
    }
    try {
      attributes[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      rejected.push(entry);
    }
  }
  return { attributes, rejected };
}

/**
 * The resource of each span. Containers: one resource per `WorkloadMeta` (which enrichment shares
 * per container), built once and cached by identity. Host processes: one per executable name
 * (`service.name` = the executable, `service.namespace` = `host`). Unattributed processes:
 * `service.name` = `unknown_service:<executable>` as the OpenTelemetry SDKs name unknown services.
 */
export class SpanResources {
  private readonly byMeta = new WeakMap<WorkloadMeta, SpanResource>();
  private readonly byExecutable = new Map<string, SpanResource>();
  private readonly base: Readonly<Attributes>;
  private readonly maxExecutables: number;

  constructor(private readonly options: SpanResourcesOptions) {
    const base: Attributes = { ...(options.extraAttributes ?? {}) };
    if (options.instanceId !== undefined) base['podtrace.instance.id'] = options.instanceId;
    this.base = base;
    this.maxExecutables = options.maxExecutables ?? DEFAULT_MAX_EXECUTABLE_RESOURCES;
  }

  /** The resource of the process an event belongs to. */
  forEvent(e: PodtraceEvent): SpanResource {
    const meta = e.meta;
    if (meta !== null && !meta.host) return this.forContainer(meta);
    return this.forExecutable(meta, e.comm);
  }

  forContainer(meta: WorkloadMeta): SpanResource {
    let r = this.byMeta.get(meta);
    if (r === undefined) {
      const instance =
        meta.namespace !== null && meta.podName !== null && meta.containerName !== null
          ? `${meta.namespace}.${meta.podName}.${meta.containerName}`
          : (meta.containerId ?? `${this.options.nodeName}.${meta.serviceName}`);
      r = {
        key: `container:${meta.containerId ?? instance}`,
        attributes: Object.freeze({
          ...this.base,
          ...meta.attributes,
          'service.name': meta.serviceName,
          'service.namespace': meta.serviceNamespace,
          'service.instance.id': instance,
          'host.name': this.options.hostName,
          'k8s.node.name': this.options.nodeName,
        }),
      };
      this.byMeta.set(meta, r);
    }
    return r;
  }

  forExecutable(meta: WorkloadMeta | null, comm: string): SpanResource {
    const host = meta !== null;
    const key = `${host ? 'host' : 'unknown'}:${comm}`;
    let r = this.byExecutable.get(key);
    if (r === undefined) {
      const attributes: Attributes = { ...this.base, ...(meta?.attributes ?? {}) };
      if (host) {
        attributes['service.name'] = comm;
        attributes['service.namespace'] = HOST_SERVICE_NAMESPACE;
      } else {
        attributes['service.name'] = `unknown_service:${comm}`;
        delete attributes['service.namespace'];
      }
      attributes['service.instance.id'] = `${this.options.nodeName}.${comm}`;
      attributes['host.name'] = this.options.hostName;
      attributes['k8s.node.name'] = this.options.nodeName;
      attributes['process.executable.name'] = comm;
      r = { key, attributes: Object.freeze(attributes) };
      if (this.byExecutable.size >= this.maxExecutables) {
        const oldest = this.byExecutable.keys().next();
        if (oldest.done !== true) this.byExecutable.delete(oldest.value);
      }
      this.byExecutable.set(key, r);
    }
    return r;
  }
}
