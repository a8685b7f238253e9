import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:dgram';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { buildDnsMessage, parseDnsMessage } from '../../src/events/dns-message';
import type { DnsQueryEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import type { EbpfSource } from '../../src/sources/ebpf-source';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import type { PodCgroup } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';
import { PATHS_ONLY_ENRICH, startEbpfPipeline } from '../helpers/ebpf-pipeline';

const base = detectCgroup2Mount('')?.base;
const ANSWER_DELAY_MS = 40;
const TIMEOUT_MS = 400;

/**
 * A UDP DNS responder on loopback (on a non-standard port, configured in source.ebpf.dns.ports)
 * answering after a delay, answering NXDOMAIN, or not answering; the client runs inside a
 * pod-shaped cgroup. One dns.query per query, attributed to the client's container.
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'dns.query (real kernel)',
  () => {
    const sink = new CollectingSink();
    const cgroups = new PodCgroups(base as string);
    let pipeline: Pipeline;
    let server: Socket;
    let port: number;
    let pod: PodCgroup;
    let source: EbpfSource;

    beforeAll(async () => {
      server = createSocket('udp4');
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
      port = server.address().port;
      server.on('message', (msg, peer) => {
        const q = parseDnsMessage(msg, 0, msg.length);
        if (q === null || q.questionName.startsWith('silent.')) return;
        const nx = q.questionName.startsWith('missing.');
        const answer = buildDnsMessage({
          id: q.id,
          name: q.questionName,
          rcode: nx ? 3 : 0,
          answers: nx ? [] : ['10.20.30.40', '10.20.30.41'],
        });
        setTimeout(() => server.send(answer, peer.port, peer.address), ANSWER_DELAY_MS);
      });
      pod = cgroups.make();
      ({ pipeline, source } = await startEbpfPipeline(
        {
          source: { ebpf: { probes: ['dns'], dns: { ports: [port], timeoutMs: TIMEOUT_MS } } },
          enrich: PATHS_ONLY_ENRICH,
        },
        [sink],
      ));
    });

    afterAll(async () => {
      await pipeline.shutdown();
      await cgroups.cleanup();
      server.close();
    });

    /** Sends one query per name from a node process inside the pod's cgroup; resolves with its pid. */
    function queryFromPod(names: string[]): Promise<number> {
      const messages = names.map((name, i) => buildDnsMessage({ id: 0x4000 + i, name }).toString('hex'));
      const script = join(mkdtempSync(join(tmpdir(), 'podtrace-dns-')), 'client.js');
      writeFileSync(
        script,
        `const s = require('dgram').createSocket('udp4');\n` +
          `for (const m of ${JSON.stringify(messages)}) s.send(Buffer.from(m, 'hex'), ${port}, '127.0.0.1');\n` +
          `setTimeout(() => s.close(), ${TIMEOUT_MS * 2});\n`,
      );
      const child = cgroups.spawnIn(pod, `exec ${process.execPath} ${script}`);
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve(child.pid as number) : reject(new Error(`client exited ${code}`)),
        );
      });
    }

    it('reports the answer after the delay, NXDOMAIN, and the timeout of an unanswered query', async () => {
      expect(source.hooks.filter((h) => h.group === 'dns').map((h) => [h.hook, h.attached])).toEqual([
        ['cgroup_skb/egress', true],
        ['cgroup_skb/ingress', true],
      ]);
      const pid = await queryFromPod(['api.shop.example', 'missing.shop.example', 'silent.shop.example']);
      const find = (name: string): Promise<DnsQueryEvent> =>
        waitFor(
          () =>
            sink.events.find(
              (e): e is DnsQueryEvent => e.kind === EventKind.DnsQuery && e.questionName === name,
            ),
          `dns.query for ${name}`,
        );
      const ok = await find('api.shop.example');
      expect(ok).toMatchObject({
        pid,
        queryType: 'A',
        rcode: 0,
        error: null,
        answerCount: 2,
        answers: ['10.20.30.40', '10.20.30.41'],
        serverAddr: '127.0.0.1',
        serverPort: port,
        clientAddr: '127.0.0.1',
        transport: 'udp',
        timedOut: false,
      });
      expect(ok.latencyNs).toBeGreaterThanOrEqual(ANSWER_DELAY_MS * 1e6);
      expect(ok.meta?.containerId).toBe(pod.containerId);
      expect(ok.meta?.podUid).toBe(pod.podUid);

      const nx = await find('missing.shop.example');
      expect(nx).toMatchObject({ pid, rcode: 3, error: 'NXDOMAIN', answerCount: 0, answers: [] });
      expect(eventAttributes(nx)['error.type']).toBe('NXDOMAIN');

      const silent = await find('silent.shop.example');
      expect(silent).toMatchObject({ pid, rcode: null, error: 'timeout', timedOut: true });
      expect(silent.latencyNs).toBeGreaterThanOrEqual(TIMEOUT_MS * 1e6);
      expect(silent.meta?.containerId).toBe(pod.containerId);

      // One event per query: nothing twice.
      const names = sink.events.filter((e) => e.kind === EventKind.DnsQuery).map((e) => e.questionName);
      expect(names.filter((n) => n.endsWith('.shop.example')).sort()).toEqual([
        'api.shop.example',
        'missing.shop.example',
        'silent.shop.example',
      ]);
    });

    it('ignores UDP traffic to other ports', async () => {
      const other = createSocket('udp4');
      await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
      const before = sink.events.length;
      const c = createSocket('udp4');
      await new Promise<void>((resolve) =>
        c.send(buildDnsMessage({ id: 9, name: 'elsewhere.example' }), other.address().port, '127.0.0.1', () =>
          resolve(),
        ),
      );
      await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2));
      c.close();
      other.close();
      expect(
        sink.events
          .slice(before)
          .some((e) => e.kind === EventKind.DnsQuery && e.questionName === 'elsewhere.example'),
      ).toBe(false);
    });
  },
);
