import type { CgroupChange } from '../../src/events/event';
import { attributedCgroup, cgroupsToLearn } from '../../src/enrich/cgroup/cgroup-changes';
import { oomKill, processExec } from '../helpers/events';

const change = (op: 'mkdir' | 'rmdir', id: number, truncated = false): CgroupChange => ({
  op,
  id,
  path: `/kubepods.slice/c${id}`,
  truncated,
  bootNs: 0,
});
const exec = (cgroupId: number) =>
  processExec({ at: 1, pid: 10, procStartNs: 0, ppid: 1, parentStartNs: 0, cgroupId });

describe('cgroupsToLearn', () => {
  it('learns every mkdir of a batch without removals, except a truncated path', () => {
    const learned = cgroupsToLearn([change('mkdir', 1), change('mkdir', 2, true), change('mkdir', 3)], []);
    expect(learned.map((c) => c.id)).toEqual([1, 3]);
  });

  it('skips a cgroup created and removed in the same batch unless one of its events is in it', () => {
    const changes = [
      change('mkdir', 1),
      change('mkdir', 2),
      change('mkdir', 3),
      change('rmdir', 1),
      change('rmdir', 2),
    ];
    expect(cgroupsToLearn(changes, [exec(2)]).map((c) => c.id)).toEqual([2, 3]);
  });

  it('keeps a short-lived cgroup an OOM kill names as its victim', () => {
    const oom = {
      ...oomKill({ at: 1, pid: 10, procStartNs: 0, victimPid: 20, victimComm: 'x', cgroupId: 7 }),
      victimCgroupId: 1,
    };
    expect(cgroupsToLearn([change('mkdir', 1), change('rmdir', 1)], [oom]).map((c) => c.id)).toEqual([1]);
  });
});

describe('attributedCgroup', () => {
  it("is the victim's cgroup for an OOM kill the kernel named one for, the event's own otherwise", () => {
    const oom = oomKill({ at: 1, pid: 10, procStartNs: 0, victimPid: 20, victimComm: 'x', cgroupId: 7 });
    expect(attributedCgroup({ ...oom, victimCgroupId: 9 })).toEqual({ id: 9, pid: 20 });
    expect(attributedCgroup({ ...oom, victimCgroupId: 0 })).toEqual({ id: 7, pid: 10 });
    expect(attributedCgroup(exec(5))).toEqual({ id: 5, pid: 10 });
  });
});
