import type { FilterConfig } from '../../config/config';
import type { LabelSelector } from './label-selector';
import { parseLabelSelector } from './label-selector';
import type { ContainerFacts } from './workload-meta-builder';

/** The `filter.*` decision for one workload: which namespaces, pods and the host are kept. */
export class WorkloadFilter {
  private readonly selector: LabelSelector;
  private readonly namespaces: ReadonlySet<string>;
  private readonly excluded: ReadonlySet<string>;
  /** Whether a cgroup not attributed to any pod is kept (only when no filter asks for a pod). */
  readonly keepsUnattributed: boolean;
  readonly keepsHost: boolean;
  /** Whether any filter can drop an event. */
  readonly active: boolean;

  constructor(filter: FilterConfig) {
    this.selector = parseLabelSelector(filter.podSelector);
    this.namespaces = new Set(filter.namespaces);
    this.excluded = new Set(filter.excludeNamespaces);
    this.keepsUnattributed = this.namespaces.size === 0 && this.selector.empty;
    this.keepsHost = filter.includeHost;
    this.active = !this.keepsUnattributed || this.excluded.size > 0 || !filter.includeHost;
  }

  keeps(f: ContainerFacts): boolean {
    if (this.namespaces.size > 0 && (f.namespace === null || !this.namespaces.has(f.namespace))) return false;
    if (f.namespace !== null && this.excluded.has(f.namespace)) return false;
    if (!this.selector.empty && (f.podName === null || !this.selector.matches(f.labels))) return false;
    return true;
  }
}
