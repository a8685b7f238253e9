import type { NativeTracer } from '../native/native-addon';

/**
 * `off`: every cgroup produces records; `deny`: listed cgroups produce none; `allow`: only listed
 * cgroups produce records.
 */
export type ScopeMode = 'off' | 'deny' | 'allow';

const MODE_NUMBERS: Readonly<Record<ScopeMode, number>> = { off: 0, deny: 1, allow: 2 };

/**
 * The in-kernel scope (BPF map `pt_scope`): which cgroups' events reach the ring buffer at all.
 * Usable before the tracer starts: the mode and the list are kept here and written to the map when
 * the tracer binds (and again if it is replaced), so callers never wait for the kernel side.
 * Listing is bounded by the map (65536 cgroups); ids beyond are refused with an error.
 */
export class KernelScope {
  private modeValue: ScopeMode = 'off';
  private readonly ids = new Set<number>();
  private tracer: NativeTracer | null = null;
  static readonly MAX_IDS = 65535;

  get mode(): ScopeMode {
    return this.modeValue;
  }

  /** The listed cgroup ids (what the kernel map holds once bound). */
  listed(): number[] {
    return [...this.ids];
  }

  setMode(mode: ScopeMode): void {
    this.modeValue = mode;
    this.tracer?.scopeMode(MODE_NUMBERS[mode]);
  }

  add(cgroupIds: readonly number[]): void {
    const fresh = cgroupIds.filter((id) => id > 0 && !this.ids.has(id));
    if (fresh.length === 0) return;
    if (this.ids.size + fresh.length > KernelScope.MAX_IDS)
      throw new RangeError(`kernel scope: more than ${KernelScope.MAX_IDS} cgroups listed`);
    for (const id of fresh) this.ids.add(id);
    this.tracer?.scopeUpdate(fresh, []);
  }

  remove(cgroupIds: readonly number[]): void {
    const gone = cgroupIds.filter((id) => this.ids.delete(id));
    if (gone.length > 0) this.tracer?.scopeUpdate([], gone);
  }

  /** Unlists every cgroup (the mode stays). */
  clear(): void {
    this.ids.clear();
    this.tracer?.scopeClear();
  }

  /** Writes the mode and list into a started tracer's map; null detaches (the tracer is closing). */
  bind(tracer: NativeTracer | null): void {
    this.tracer = tracer;
    if (tracer === null) return;
    tracer.scopeClear();
    if (this.ids.size > 0) tracer.scopeUpdate([...this.ids], []);
    tracer.scopeMode(MODE_NUMBERS[this.modeValue]);
  }
}
