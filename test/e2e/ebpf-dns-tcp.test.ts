import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket as TcpSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { buildDnsMessage, parseDnsMessage } from '../../src/events/dns-message';
import type { DnsQueryEvent } from '../../src/events/event';
import { eventAttributes } from '../../src/events/event-attributes';
import { EventKind } from '../../src/events/event-kind';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import type { PodCgroup } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;
const ANSWER_DELAY_MS = 40;
const TIMEOUT_MS = 1500;

/** A 2-byte big-endian length prefix (DNS over TCP, RFC 1035 4.2.2). */
function prefix(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** Binds a TCP server and a UDP socket on the same loopback port (retried if the UDP port is taken). */
async function bindBoth(): Promise<{ tcp: Server; udp: Socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { tcp, udp, port };
    tcp.close();
    udp.close();
    if (attempt > 10) throw new Error('no port free for both TCP and UDP');
  }
}

/**
 * The answer to a query by its name: `missing.*` NXDOMAIN, `silent.*` none, `big.*` over UDP a
 * truncated (TC) answer without records, everything else two A records.
 */
function answerFor(query: Buffer, transport: 'udp' | 'tcp'): Buffer | null {
  const q = parseDnsMessage(query, 0, query.length);
  if (q === null || q.isResponse || q.questionName.startsWith('silent.')) return null;
  if (q.questionName.startsWith('missing.'))
    return buildDnsMessage({ id: q.id, name: q.questionName, rcode: 3 });
  if (q.questionName.startsWith('big.') && transport === 'udp')
    return buildDnsMessage({ id: q.id, name: q.questionName, rcode: 0, tc: true });
  return buildDnsMessage({ id: q.id, name: q.questionName, rcode: 0, answers: ['10.7.0.1', '10.7.0.2'] });
}

/** Answers to `before.*` queries, held until released (so they arrive once podtrace runs). */
const held: (() => void)[] = [];
let holding = true;

/**
 * Serves DNS over TCP: reassembles length-prefixed messages across segments, answers after a delay
 * (`before.*` only once released).
 */
function serveTcp(server: Server): void {
  server.on('connection', (sock: TcpSocket) => {
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        const answer = answerFor(msg, 'tcp');
        if (answer === null) continue;
        const name = parseDnsMessage(msg, 0, msg.length)?.questionName ?? '';
        const apart = name.startsWith('apart.');
        const reply = (): void => {
          if (sock.destroyed) return;
          if (!apart) {
            sock.write(Buffer.concat([prefix(answer.length), answer]));
            return;
          }
          // The prefix in a segment of its own, the message in the next.
          sock.write(prefix(answer.length));
          setTimeout(() => sock.destroyed || sock.write(answer), 30);
        };
        if (holding && name.startsWith('before.')) held.push(reply);
        else setTimeout(reply, ANSWER_DELAY_MS);
      }
    });
  });
}

/**
 * DNS over TCP on loopback (a responder on a non-standard port, configured in
 * source.ebpf.dns.ports), queried from a process inside a pod-shaped cgroup: an answer after a
 * delay, NXDOMAIN, no answer (timeout), a prefix sent apart from its message, a query split inside
 * its header (counted, not guessed), and a UDP answer truncated (TC) followed by the TCP retry.
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'dns.query over TCP (real kernel)',
  () => {
    const sink = new CollectingSink();
    const cgroups = new PodCgroups(base as string);
    let pipeline: Pipeline;
    let tcp: Server;
    let udp: Socket;
    let port: number;
    let pod: PodCgroup;
    let source: EbpfSource;
    let early: ChildProcess;
    const earlyAnswers: string[] = [];

    beforeAll(async () => {
      ({ tcp, udp, port } = await bindBoth());
      serveTcp(tcp);
      pod = cgroups.make();
      // Unhappy path first: a client in the pod connected, and its query sent, before podtrace.
      const earlyScript = join(mkdtempSync(join(tmpdir(), 'podtrace-dns-tcp-')), 'early.js');
      writeFileSync(earlyScript, earlyClient());
      early = cgroups.spawnIn(pod, `exec ${process.execPath} ${earlyScript}`, true);
      early.stdout?.on('data', (d: Buffer) => earlyAnswers.push(...d.toString().split('\n').filter(Boolean)));
      await waitFor(() => (held.length > 0 ? true : undefined), 'the early query at the server');
      udp.on('message', (msg, peer) => {
        const answer = answerFor(msg, 'udp');
        if (answer !== null) setTimeout(() => udp.send(answer, peer.port, peer.address), ANSWER_DELAY_MS);
      });
      const config = validateConfig({
        source: { ebpf: { probes: ['dns'], dns: { ports: [port], timeoutMs: TIMEOUT_MS } } },
        enrich: { cri: { enabled: false }, kubernetes: { enabled: false } },
      });
      const metrics = new Metrics();
      source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
      const enricher = new PodEnricher(config.enrich, config.filter, {
        logger: silentLogger(),
        metrics,
        nodeName: 'n',
      });
      pipeline = new Pipeline(source, enricher, [sink], silentLogger());
      await pipeline.start();
      // The answer to the query sent before the start arrives now.
      holding = false;
      for (const reply of held.splice(0)) reply();
    });

    afterAll(async () => {
      await pipeline.shutdown();
      await cgroups.cleanup();
      tcp.close();
      udp.close();
    });

    /**
     * Runs a client inside the pod's cgroup. Each step is a query over TCP (its own connection)
     * sent `whole` (prefix and message in one write), `apart` (prefix, then the message) or `cut`
     * (prefix and 5 bytes, then the rest), or `udp-then-tcp` (over UDP; when the answer has TC set,
     * again over TCP). Resolves with the client's pid.
     */
    function clientInPod(steps: { name: string; id: number; how: string }[]): Promise<number> {
      const plan = steps.map((s) => ({
        ...s,
        hex: buildDnsMessage({ id: s.id, name: s.name }).toString('hex'),
      }));
      const script = join(mkdtempSync(join(tmpdir(), 'podtrace-dns-tcp-')), 'client.js');
      writeFileSync(
        script,
        `const net = require('net'), dgram = require('dgram');
const port = ${port}, hold = ${TIMEOUT_MS * 2};
const len = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n, 0); return b; };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
function overTcp(msg, how) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let got = Buffer.alloc(0);
    const done = () => { s.destroy(); resolve(); };
    const timer = setTimeout(done, hold);
    s.on('data', (c) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { clearTimeout(timer); done(); }
    });
    s.on('error', done);
    s.on('connect', async () => {
      if (how === 'whole') return s.write(Buffer.concat([len(msg.length), msg]));
      const first = how === 'apart' ? len(msg.length) : Buffer.concat([len(msg.length), msg.subarray(0, 5)]);
      s.write(first);
      await pause(50);
      s.write(how === 'apart' ? msg : msg.subarray(5));
    });
  });
}
function overUdp(msg) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('message', (a) => { s.close(); resolve(a); });
    s.send(msg, port, '127.0.0.1');
  });
}
(async () => {
  for (const step of ${JSON.stringify(plan)}) {
    const msg = Buffer.from(step.hex, 'hex');
    if (step.how !== 'udp-then-tcp') { await overTcp(msg, step.how); continue; }
    const a = await overUdp(msg);
    if ((a[2] & 0x02) !== 0) await overTcp(msg, 'whole');
  }
})();
`,
      );
      const child = cgroups.spawnIn(pod, `exec ${process.execPath} ${script}`);
      return new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve(child.pid as number) : reject(new Error(`client exited ${code}`)),
        );
      });
    }

    /**
     * A client that connects and sends `before.tcp.example` at once, prints each answer's name,
     * and sends `after.tcp.example` on the same connection when told to on stdin.
     */
    function earlyClient(): string {
      const msg = (id: number, name: string): string => buildDnsMessage({ id, name }).toString('hex');
      return `const net = require('net');
const frame = (h) => { const m = Buffer.from(h, 'hex'); const b = Buffer.alloc(2 + m.length); b.writeUInt16BE(m.length, 0); m.copy(b, 2); return b; };
const s = net.connect(${port}, '127.0.0.1', () => s.write(frame('${msg(0x5101, 'before.tcp.example')}')));
s.setNoDelay(true);
let got = Buffer.alloc(0), answers = 0;
s.on('data', (c) => {
  got = Buffer.concat([got, c]);
  while (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
    const n = got.readUInt16BE(0);
    process.stdout.write('answer ' + got.readUInt16BE(2).toString(16) + '\\n');
    got = got.subarray(2 + n);
    if (++answers === 2) s.end();
  }
});
process.stdin.on('data', () => s.write(frame('${msg(0x5102, 'after.tcp.example')}')));`;
    }

    it('follows a connection made before the start: no event for the query sent before, one for the next', async () => {
      await waitFor(() => (earlyAnswers.includes('answer 5101') ? true : undefined), 'the early answer');
      early.stdin?.write('go\n');
      const after = await find('after.tcp.example');
      expect(after).toMatchObject({ pid: early.pid, transport: 'tcp', rcode: 0, timedOut: false });
      expect(after.meta?.containerId).toBe(pod.containerId);
      await waitFor(() => (earlyAnswers.includes('answer 5102') ? true : undefined), 'the second answer');
      // Its answer came while podtrace ran, but its query left before: nothing is invented for it.
      await new Promise((r) => setTimeout(r, 300));
      expect(dnsEvents('before.tcp.example')).toHaveLength(0);
    });

    const dnsEvents = (name: string): DnsQueryEvent[] =>
      sink.events.filter((e): e is DnsQueryEvent => e.kind === EventKind.DnsQuery && e.questionName === name);
    const find = (name: string, transport: 'udp' | 'tcp' = 'tcp'): Promise<DnsQueryEvent> =>
      waitFor(
        () => dnsEvents(name).find((e) => e.transport === transport),
        `dns.query over ${transport} for ${name}`,
      );

    it('reports answers, NXDOMAIN and the timeout of queries over TCP, attributed to the pod', async () => {
      const pid = await clientInPod([
        { name: 'api.tcp.example', id: 0x5001, how: 'whole' },
        { name: 'missing.tcp.example', id: 0x5002, how: 'whole' },
        { name: 'silent.tcp.example', id: 0x5003, how: 'whole' },
        { name: 'apart.tcp.example', id: 0x5004, how: 'apart' },
      ]);
      const ok = await find('api.tcp.example');
      expect(ok).toMatchObject({
        pid,
        transport: 'tcp',
        queryType: 'A',
        rcode: 0,
        error: null,
        answerCount: 2,
        answers: ['10.7.0.1', '10.7.0.2'],
        serverAddr: '127.0.0.1',
        serverPort: port,
        clientAddr: '127.0.0.1',
        timedOut: false,
        truncated: false,
      });
      expect(ok.latencyNs).toBeGreaterThanOrEqual(ANSWER_DELAY_MS * 1e6);
      expect(ok.meta?.containerId).toBe(pod.containerId);
      expect(ok.meta?.podUid).toBe(pod.podUid);
      expect(eventAttributes(ok)['network.transport']).toBe('tcp');

      const nx = await find('missing.tcp.example');
      expect(nx).toMatchObject({ pid, rcode: 3, error: 'NXDOMAIN', answerCount: 0 });

      const silent = await find('silent.tcp.example');
      expect(silent).toMatchObject({ pid, transport: 'tcp', rcode: null, error: 'timeout', timedOut: true });
      expect(silent.latencyNs).toBeGreaterThanOrEqual(TIMEOUT_MS * 1e6);
      expect(silent.meta?.containerId).toBe(pod.containerId);

      // Both the query and the answer had their prefix in a segment of their own.
      const apart = await find('apart.tcp.example');
      expect(apart).toMatchObject({ pid, rcode: 0, answers: ['10.7.0.1', '10.7.0.2'], timedOut: false });

      for (const name of ['api', 'missing', 'silent', 'apart'])
        expect(dnsEvents(`${name}.tcp.example`)).toHaveLength(1);
    });

    it('counts a query split inside its header instead of guessing at it', async () => {
      const before = source.kernelDrops().unparsed['dns.query'] ?? 0;
      await clientInPod([{ name: 'cut.tcp.example', id: 0x5005, how: 'cut' }]);
      await waitFor(
        () => ((source.kernelDrops().unparsed['dns.query'] ?? 0) > before ? true : undefined),
        'the unparsed counter to move',
      );
      // The server answered (it reassembled the query) but no event names a wrong query.
      await new Promise((r) => setTimeout(r, 300));
      expect(dnsEvents('cut.tcp.example')).toHaveLength(0);
      expect(
        sink.events.filter((e) => e.kind === EventKind.DnsQuery && e.id === 0x5005 && e.transport === 'tcp'),
      ).toHaveLength(0);
    });

    it('reports a UDP answer truncated (TC) and the TCP retry as two events', async () => {
      const pid = await clientInPod([{ name: 'big.tc.example', id: 0x5006, how: 'udp-then-tcp' }]);
      const overUdp = await find('big.tc.example', 'udp');
      const overTcp = await find('big.tc.example', 'tcp');
      expect(overUdp).toMatchObject({ pid, rcode: 0, error: null, answerTruncated: true, answers: [] });
      expect(eventAttributes(overUdp)['podtrace.dns.answer_truncated']).toBe(true);
      expect(overTcp).toMatchObject({
        pid,
        rcode: 0,
        answerTruncated: false,
        answers: ['10.7.0.1', '10.7.0.2'],
      });
      expect(overTcp.clientPort).not.toBe(overUdp.clientPort);
      expect(dnsEvents('big.tc.example')).toHaveLength(2);
    });
  },
);
