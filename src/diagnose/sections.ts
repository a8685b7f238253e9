import type { SectionDefinition } from './section';
import { DnsSection } from './sections/dns-section';
import { FileSection } from './sections/file-section';
import { ProcessSection } from './sections/process-section';
import { RunqueueSection } from './sections/runqueue-section';
import { SignalSection } from './sections/signal-section';
import { TcpSection } from './sections/tcp-section';

/**
 * The report's sections in reading order, one per probe group. A new probe group adds its
 * collector here (one line) and its module under sections/; a definition with `create: null`
 * (a group announced but not built) is reported as not available.
 */
export const SECTIONS: readonly SectionDefinition[] = [
  { id: 'processes', title: 'Processes', probeGroup: 'process', create: () => new ProcessSection() },
  { id: 'tcp', title: 'TCP', probeGroup: 'tcp', create: () => new TcpSection() },
  { id: 'dns', title: 'DNS', probeGroup: 'dns', create: () => new DnsSection() },
  { id: 'file', title: 'Slow file I/O', probeGroup: 'file', create: () => new FileSection() },
  { id: 'signals', title: 'Signals', probeGroup: 'signal', create: () => new SignalSection() },
  { id: 'runqueue', title: 'Run-queue latency', probeGroup: 'sched', create: () => new RunqueueSection() },
];
