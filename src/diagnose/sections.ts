import type { SectionDefinition } from './section';
import { ProcessSection } from './sections/process-section';
import { TcpSection } from './sections/tcp-section';

/**
 * The report's sections in reading order, one per probe group. A group that does not exist in
 * this build has `create: null` and is reported as not available; a probe group that lands adds its
 * collector here (one line) and its module under sections/.
 */
export const SECTIONS: readonly SectionDefinition[] = [
  { id: 'processes', title: 'Processes', probeGroup: 'process', create: () => new ProcessSection() },
  { id: 'tcp', title: 'TCP', probeGroup: 'tcp', create: () => new TcpSection() },
  { id: 'dns', title: 'DNS', probeGroup: 'dns', create: null },
  { id: 'file', title: 'Slow file I/O', probeGroup: 'file', create: null },
  { id: 'signals', title: 'Signals', probeGroup: 'signal', create: null },
  { id: 'runqueue', title: 'Run-queue latency', probeGroup: 'sched', create: null },
];
