import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectAttributionMode } from '../../src/enrich/cgroup/attribution-mode';
import { cgroupProgramRoot, detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { buildDnsMessage, parseDnsMessage } from '../../src/events/dns-message';
import type { DnsQueryEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroup } from '../helpers/pod-cgroup';
import { describeIf } from '../helpers/prereq';

const PIDS_V1 = '/sys/fs/cgroup/pids';

function v1Missing(): string | null {
  if (!existsSync(join(PIDS_V1, 'cgroup.procs')) || existsSync(join(PIDS_V1, 'cgroup.controllers')))
    return 'no cgroup v1 pids hierarchy mounted';
  if (detectCgroup2Mount('') === null) return 'no cgroup2 mount for the cgroup_skb programs';
  return null;
}

/**
 * dns.query in cgroup v1 mode on a hybrid node: the cgroup_skb programs sit on the cgroup2 root
 * and see the socket's cgroup2 cgroup, which says nothing about the v1 container (here both
 * containers share one cgroup2 cgroup). The query must carry the sender's v1 pids cgroup, like
 * the other groups' events, and resolve to its container.
 */
describeIf(missingBpf() ?? v1Missing())('dns.query in cgroup v1 mode (real kernel)', () => {
  const sink = new CollectingSink();
  let pipeline: Pipeline;
  let server: Socket;
  let port: number;
  let pod: PodCgroup | undefined;
  const config = validateConfig({
    source: { ebpf: { probes: ['dns'], dns: { ports: [53], timeoutMs: 2000 } } },
    enrich: {
      cgroupMode: 'v1',
      cgroupBase: PIDS_V1, // PODTRACE_CGROUP_BASE naming the v1 hierarchy: the programs still need cgroup2
      cgroupV1Controller: 'pids',
      rescanMinIntervalMs: 600000,
      cri: { enabled: false },
      kubernetes: { enabled: false },
    },
  });
  const mode = detectAttributionMode(config.enrich);

  beforeAll(async () => {
    server = createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = server.address().port;
    server.on('message', (msg, peer) => {
      const q = parseDnsMessage(msg, 0, msg.length);
      if (q === null) return;
      const nx = q.questionName.startsWith('missing.');
      server.send(
        buildDnsMessage({
          id: q.id,
          name: q.questionName,
          rcode: nx ? 3 : 0,
          answers: nx ? [] : ['10.9.0.1'],
        }),
        peer.port,
        peer.address,
      );
    });
    const metrics = new Metrics();
    const source = new EbpfSource(
      { ...config.source.ebpf, dns: { ...config.source.ebpf.dns, ports: [port] } },
      {
        logger: silentLogger(),
        metrics,
        attribution: { hierarchyId: mode.hierarchyId, v1Ssid: mode.v1Ssid },
        cgroupPath: cgroupProgramRoot(config.enrich, true),
      },
    );
    const enricher = new PodEnricher(config.enrich, config.filter, {
      logger: silentLogger(),
      metrics,
      nodeName: 'n',
      attribution: mode,
    });
    pipeline = new Pipeline(source, enricher, [sink], silentLogger());
    await pipeline.start();
    expect(source.hooks.filter((h) => h.group === 'dns').every((h) => h.attached)).toBe(true);
  });

  afterAll(async () => {
    await pipeline?.shutdown();
    server?.close();
    pod?.remove();
  });

  function queryFrom(path: string, name: string, id: number): Promise<number> {
    const script = join(mkdtempSync(join(tmpdir(), 'podtrace-dns-v1-')), 'client.js');
    writeFileSync(
      script,
      `const s = require('dgram').createSocket('udp4');\n` +
        `s.on('message', () => s.close());\n` +
        `s.send(Buffer.from('${buildDnsMessage({ id, name }).toString('hex')}', 'hex'), ${port}, '127.0.0.1');\n` +
        `setTimeout(() => s.close(), 3000).unref();\n`,
    );
    const child = (pod as PodCgroup).spawnIn(path, `${process.execPath} ${script}`);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(child.pid as number) : reject(new Error(`client exited ${code}`)),
      );
    });
  }

  it('attributes queries to each sender’s v1 container, not to the shared cgroup2 cgroup', async () => {
    expect(mode).toMatchObject({ mode: 'v1', controller: 'pids' });
    pod = new PodCgroup(PIDS_V1, undefined, 'cgroupfs');
    const a = pod.container();
    const b = pod.container();
    const pidA = await queryFrom(a.path, 'api.v1.example', 0x6001);
    const pidB = await queryFrom(b.path, 'missing.v1.example', 0x6002);
    const find = (name: string): Promise<DnsQueryEvent> =>
      waitFor(
        () =>
          sink.events.find(
            (e): e is DnsQueryEvent => e.kind === EventKind.DnsQuery && e.questionName === name,
          ),
        `dns.query for ${name}`,
      );
    const ea = await find('api.v1.example');
    const eb = await find('missing.v1.example');
    // The ids are the v1 directories' inodes (what every other group reports in v1 mode).
    expect(ea).toMatchObject({
      pid: pidA,
      rcode: 0,
      answers: ['10.9.0.1'],
      cgroupId: statSync(pod.dir(a.path)).ino,
    });
    expect(eb).toMatchObject({
      pid: pidB,
      rcode: 3,
      error: 'NXDOMAIN',
      cgroupId: statSync(pod.dir(b.path)).ino,
    });
    expect(ea.meta?.attributes['container.id']).toBe(a.id);
    expect(eb.meta?.attributes['container.id']).toBe(b.id);
    expect(ea.meta?.attributes['k8s.pod.uid']).toBe(pod.podUid);
  });
});
