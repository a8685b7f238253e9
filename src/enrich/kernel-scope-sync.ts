import type { Logger } from '../core/logger';
import type { ScopeMode } from '../sources/kernel-scope';

/** The part of KernelScope the enricher writes (src/sources/kernel-scope.ts). */
export interface KernelScopeWriter {
  setMode(mode: ScopeMode): void;
  add(cgroupIds: readonly number[]): void;
  remove(cgroupIds: readonly number[]): void;
}

/**
 * Mirrors the enricher's filter decisions into the in-kernel scope as a deny list: a cgroup whose
 * events the filters drop is listed once the enricher has resolved it, so its later events cost no
 * ring-buffer record; it is unlisted when the filter decision flips or the cgroup is forgotten
 * (deleted pod, LRU). Cgroups not resolved yet are never listed: until then their events reach
 * user space and the user-space filter drops them (the start-up window).
 */
export class KernelScopeSync {
  private readonly denied = new Set<number>();
  private failed = false;

  constructor(
    private readonly scope: KernelScopeWriter | null,
    filtering: boolean,
    private readonly log: Logger,
  ) {
    if (scope !== null && filtering) this.guard(() => scope.setMode('deny'));
    if (!filtering) this.failed = true; // nothing to mirror
  }

  /** Called whenever an entry's filter decision is (re)computed from a resolved cgroup. */
  decided(cgroupId: number, keep: boolean): void {
    if (this.scope === null || this.failed || cgroupId === 0) return;
    const listed = this.denied.has(cgroupId);
    if (!keep && !listed) {
      this.denied.add(cgroupId);
      this.guard(() => this.scope?.add([cgroupId]));
    } else if (keep && listed) {
      this.denied.delete(cgroupId);
      this.guard(() => this.scope?.remove([cgroupId]));
    }
  }

  forgotten(cgroupId: number): void {
    if (this.scope === null || !this.denied.delete(cgroupId)) return;
    this.guard(() => this.scope?.remove([cgroupId]));
  }

  get deniedCount(): number {
    return this.denied.size;
  }

  /** A failing map write turns the mirror off (user space keeps filtering); logged once. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed = true;
      this.log.warn({ err }, 'in-kernel scope not updated; filters keep working in user space');
    }
  }
}
