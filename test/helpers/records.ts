import { RECORD_VERSION } from '../../src/events/layout';
import type { RecordHeader } from '../../src/record/record-format';
import { RECORD_FORMAT_VERSION } from '../../src/record/record-format';
/** Raw record fixtures: the encoder lives in src/ (the synthetic source uses it too). */
export {
  cgroupRecord,
  execRecord,
  exitRecord,
  forkRecord,
  oomRecord,
  tcpRecord,
} from '../../src/events/record-encoder';
export type { HeaderFields, TcpFields } from '../../src/events/record-encoder';

/** A recording's header as `podtrace record` writes it on node-1 (current versions), with `over` on top. */
export function recordHeader(over: Partial<RecordHeader> = {}): RecordHeader {
  return {
    formatVersion: RECORD_FORMAT_VERSION,
    recordVersion: RECORD_VERSION,
    nodeName: 'node-1',
    kernelRelease: '6.1.0',
    clockOffsetNs: 1.7e18,
    bootTimeUnixMs: 1.7e12,
    startedAtUnixMs: 1.7e12,
    probes: ['process', 'tcp'],
    cgroupRoot: '',
    ...over,
  };
}
