import { EventKind } from '../../src/events/event-kind';
import { execRecord, exitRecord, forkRecord, oomRecord, tcpRecord } from './records';

/** A small seeded PRNG (mulberry32): the same seed gives the same cases on every run. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** One valid record of every kind the decoder knows, with varied field values. */
export function validRecords(rng: Rng): Buffer[] {
  const h = { pid: 1 + rng.int(1 << 22), tsNs: 1e9 + rng.int(1e9), cgroupId: rng.int(1e6), comm: 'sh' };
  const v6 = Array.from({ length: 16 }, () => rng.int(256));
  return [
    execRecord(h, {
      ppid: 1,
      uid: rng.int(70000),
      parentStartNs: 5,
      filename: '/bin/sh',
      argv: ['sh', '-c', `echo ${rng.int(1000)}`],
    }),
    exitRecord(h, { exitCode: rng.int(256) << 8, lifetimeNs: rng.int(1e9) }),
    forkRecord(h, { childPid: rng.int(1 << 22), childStartNs: 7 }),
    tcpRecord(
      { ...h, kind: rng.pick([EventKind.TcpConnect, EventKind.TcpAccept, EventKind.TcpClose]) },
      { saddr: [10, 0, 0, 1], daddr: [10, 0, 0, 2], sport: 4000, dport: 80, oldState: 2, newState: 1 },
    ),
    tcpRecord(
      { ...h, kind: EventKind.TcpRetransmit },
      { saddr: v6, daddr: v6, sport: 1, dport: 2, oldState: 1, newState: 1 },
    ),
    oomRecord(h, { victimPid: 9, victimComm: 'hog', victimCgroupId: 3, pages: 10, rssPages: 5 }),
  ];
}

/** A mutated copy of `input`: bit flips, byte stores, 16/32-bit stores of edge values, cuts, splices. */
export function mutate(rng: Rng, input: Buffer, hotOffsets: readonly number[] = []): Buffer {
  let b: Buffer = Buffer.from(input);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    if (b.length === 0) return rng.bytes(1 + rng.int(64));
    const at =
      hotOffsets.length > 0 && rng.next() < 0.4 ? rng.pick(hotOffsets) + rng.int(16) : rng.int(b.length);
    const pos = Math.min(at, b.length - 1);
    switch (rng.int(7)) {
      case 0:
        b[pos] = (b[pos] ?? 0) ^ (1 << rng.int(8));
        break;
      case 1:
        b[pos] = rng.pick([0, 1, 0x7f, 0x80, 0xff, rng.int(256)]);
        break;
      case 2:
        if (pos + 2 <= b.length) b.writeUInt16LE(rng.pick([0, 1, 7, 8, 0x7fff, 0xffff, rng.int(65536)]), pos);
        break;
      case 3:
        if (pos + 4 <= b.length)
          b.writeUInt32LE(rng.pick([0, 8, 0x7fffffff, 0x80000000, 0xffffffff, rng.int(2 ** 32)]), pos);
        break;
      case 4:
        b = b.subarray(0, rng.int(b.length));
        break;
      case 5:
        b = Buffer.concat([b.subarray(0, pos), rng.bytes(1 + rng.int(24)), b.subarray(pos)]);
        break;
      default: {
        const from = rng.int(b.length);
        const len = 1 + rng.int(Math.min(256, b.length - from));
        b = Buffer.concat([b.subarray(0, pos), b.subarray(from, from + len), b.subarray(pos)]);
      }
    }
  }
  return b;
}
