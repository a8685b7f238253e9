import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyCgroupPath, podUidFromSystemd } from '../../src/enrich/cgroup/cgroup-layout';
import { cgroup2PathOf, cgroupPathOf } from '../../src/enrich/cgroup/cgroup-path-resolver';

interface LayoutFixture {
  name: string;
  path: string;
  expect: Record<string, unknown>;
}
const fixtures = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/cgroup/layouts.json'), 'utf8'),
) as LayoutFixture[];

describe('classifyCgroupPath', () => {
  describe('.classify', () => {
    it.each(fixtures.map((f) => [f.name, f] as const))('classifies the %s layout', (_name, f) => {
      expect(classifyCgroupPath(f.path)).toEqual(f.expect);
    });

    it('reads the pod uid of a systemd slice back with dashes', () => {
      const c = classifyCgroupPath(
        '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9d1e_7f2a_4b3c_8d9e_0f1a2b3c4d5e.slice/cri-containerd-' +
          'a'.repeat(64) +
          '.scope',
      );
      expect(c).toMatchObject({ kind: 'container', podUid: '9d1e-7f2a-4b3c-8d9e-0f1a2b3c4d5e' });
    });

    it('parses the systemd driver under a non-root --cgroup-root, whose slices carry the root name', () => {
      const id = 'b'.repeat(64);
      const c = classifyCgroupPath(
        `/custom.slice/custom-kubepods.slice/custom-kubepods-burstable.slice/custom-kubepods-burstable-pod9d1e_7f2a_4b3c_8d9e_0f1a2b3c4d5e.slice/cri-containerd-${id}.scope`,
      );
      expect(c).toEqual({
        kind: 'container',
        containerId: id,
        runtime: 'containerd',
        podUid: '9d1e-7f2a-4b3c-8d9e-0f1a2b3c4d5e',
        qos: 'burstable',
      });
      expect(
        classifyCgroupPath(
          `/custom.slice/custom-kubepods.slice/custom-kubepods-pod9d1e_7f2a_4b3c_8d9e_0f1a2b3c4d5e.slice/cri-containerd-${id}.scope`,
        ),
      ).toMatchObject({ kind: 'container', qos: 'guaranteed' });
      // A slice merely named like kubepods elsewhere is not an anchor.
      expect(classifyCgroupPath('/system.slice/kubepods-burstable.slice')).toEqual({ kind: 'host' });
    });

    it('does not take the conmon monitor for the container it watches', () => {
      const id = 'b'.repeat(64);
      const c = classifyCgroupPath(
        `/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/crio-conmon-${id}.scope`,
      );
      expect(c.kind).toBe('monitor');
      expect(c.kind === 'container').toBe(false);
    });
  });
});

describe('podUidFromSystemd', () => {
  it('converts underscores to dashes', () => {
    expect(podUidFromSystemd('1a2b3c4d_5e6f_4a8b_9c0d_112233445566')).toBe(
      '1a2b3c4d-5e6f-4a8b-9c0d-112233445566',
    );
  });
});

describe('cgroup2PathOf', () => {
  it('takes the 0:: line of a hybrid /proc/<pid>/cgroup', () => {
    const text = '9:name=systemd:/\n4:memory:/kubepods/x\n0::/kubepods/burstable/podabc/def\n';
    expect(cgroup2PathOf(text)).toBe('/kubepods/burstable/podabc/def');
  });

  it('reads a v1 hierarchy line by its hierarchy id (cgroup v1 mode)', () => {
    const text =
      '9:name=systemd:/\n8:pids:/kubepods/besteffort/podabc/' + 'c'.repeat(64) + '\n4:memory:/x\n0::/\n';
    expect(cgroupPathOf(text, 8)).toBe(`/kubepods/besteffort/podabc/${'c'.repeat(64)}`);
    expect(cgroupPathOf(text, 4)).toBe('/x');
    expect(cgroupPathOf(text, 0)).toBe('/');
    expect(cgroupPathOf(text, 3)).toBeNull();
  });

  it('returns null when the process has no cgroup2 line', () => {
    expect(cgroup2PathOf('4:memory:/x\n')).toBeNull();
  });
});
