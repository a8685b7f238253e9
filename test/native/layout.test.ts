import { layoutMismatches } from '../../src/events/layout';
import { loadNativeAddon } from '../../src/native/native-addon';
import { describeIf } from '../helpers/prereq';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/native/native-addon';

const built = existsSync(join(packageRoot(), 'build', 'Release', 'podtrace_native.node'));

describeIf(built ? null : 'native addon not built (npm run build:native)')('record layout', () => {
  it('matches between the C structs (as the addon reports them) and the TypeScript decoder', () => {
    const native = loadNativeAddon().layout();
    expect(layoutMismatches(native)).toEqual([]);
    expect(native.pt_header?.sizeof).toBe(56);
  });

  it('detects a moved field', () => {
    const native = loadNativeAddon().layout();
    const moved = { ...native, pt_tcp: { ...native.pt_tcp, dport: 91 } };
    expect(layoutMismatches(moved)).toEqual(['pt_tcp.dport: decoder 90, addon 91']);
  });
});
