import { formatIPv4, formatIPv6 } from './ip-format';

/** What podtrace reads from a DNS message (RFC 1035 wire format), as far as the captured bytes go. */
export interface DnsMessage {
  id: number;
  isResponse: boolean;
  /** TC: the server truncated the answer to fit (a UDP answer; the client retries over TCP). */
  tc: boolean;
  rcode: number;
  questionName: string;
  /** Numeric QTYPE of the first question; 0 when it was not captured. */
  qtype: number;
  /** ANCOUNT from the header. */
  answerCount: number;
  /** A/AAAA data of the answers that were captured. */
  addresses: string[];
}

const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];
const QTYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  43: 'DS',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
};
const TYPE_A = 1;
const TYPE_AAAA = 28;
/** Compression pointers followed per name: a loop in a hostile message ends here. */
const MAX_POINTER_JUMPS = 16;
/** Answers decoded per message (addresses beyond are counted in answerCount only). */
const MAX_ANSWERS = 32;

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export function qtypeName(qtype: number): string {
  return QTYPE_NAMES[qtype] ?? `TYPE${qtype}`;
}

/** A name at `off` (labels, possibly compressed); returns the text and where the name ends in place. */
function readName(
  buf: Buffer,
  start: number,
  end: number,
  off: number,
): { name: string; next: number } | null {
  const labels: string[] = [];
  let pos = off;
  let next = -1;
  for (let jumps = 0; pos < end;) {
    const len = buf[pos] as number;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { name: labels.join('.'), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= end || ++jumps > MAX_POINTER_JUMPS) return null;
      if (next < 0) next = pos + 2;
      pos = start + (((len & 0x3f) << 8) | (buf[pos + 1] as number));
      continue;
    }
    if ((len & 0xc0) !== 0 || pos + 1 + len > end) return null;
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return null;
}

/**
 * Parses the header, the first question and the A/AAAA answers of the message in
 * `buf[start, start + len)`. Returns null when even the 12-byte header is missing; a message cut
 * short keeps what was read before the cut.
 */
export function parseDnsMessage(buf: Buffer, start: number, len: number): DnsMessage | null {
  if (len < 12) return null;
  const end = start + len;
  const flags = buf.readUInt16BE(start + 2);
  const msg: DnsMessage = {
    id: buf.readUInt16BE(start),
    isResponse: (flags & 0x8000) !== 0,
    tc: (flags & 0x0200) !== 0,
    rcode: flags & 0xf,
    questionName: '',
    qtype: 0,
    answerCount: buf.readUInt16BE(start + 6),
    addresses: [],
  };
  const qdcount = buf.readUInt16BE(start + 4);
  let pos = start + 12;
  for (let q = 0; q < qdcount; q++) {
    const n = readName(buf, start, end, pos);
    if (n === null || n.next + 4 > end) return msg;
    if (q === 0) {
      msg.questionName = n.name;
      msg.qtype = buf.readUInt16BE(n.next);
    }
    pos = n.next + 4;
  }
  for (let a = 0; a < msg.answerCount && a < MAX_ANSWERS; a++) {
    const n = readName(buf, start, end, pos);
    if (n === null || n.next + 10 > end) return msg;
    const type = buf.readUInt16BE(n.next);
    const rdlen = buf.readUInt16BE(n.next + 8);
    const rdata = n.next + 10;
    if (rdata + rdlen > end) return msg;
    if (type === TYPE_A && rdlen === 4) msg.addresses.push(formatIPv4(buf, rdata));
    else if (type === TYPE_AAAA && rdlen === 16) msg.addresses.push(formatIPv6(buf, rdata));
    pos = rdata + rdlen;
  }
  return msg;
}

export interface DnsMessageSpec {
  id: number;
  name: string;
  qtype?: number;
  /** A response (QR set) with this rcode; omitted: a query. */
  rcode?: number;
  /** IPv4 (A) or IPv6 (AAAA) addresses answered for `name`. */
  answers?: readonly string[];
  /** Set TC (a response truncated to fit UDP). */
  tc?: boolean;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p.length > 0);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])),
    Buffer.from([0]),
  ]);
}

function encodeAddress(a: string): { type: number; data: Buffer } {
  if (!a.includes(':')) return { type: TYPE_A, data: Buffer.from(a.split('.').map(Number)) };
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = a.includes('::') ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const data = Buffer.alloc(16);
  groups.forEach((g, i) => data.writeUInt16BE(parseInt(g, 16), i * 2));
  return { type: TYPE_AAAA, data };
}

/**
 * A wire-format DNS message: one question and, for a response, A/AAAA answers whose owner name is
 * a compression pointer to the question (what resolvers send). For tests, benchmarks and the
 * synthetic source.
 */
export function buildDnsMessage(spec: DnsMessageSpec): Buffer {
  const answers = spec.answers ?? [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id, 0);
  const response = spec.rcode !== undefined;
  header.writeUInt16BE((response ? 0x8180 | (spec.rcode ?? 0) : 0x0100) | (spec.tc === true ? 0x0200 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(response ? answers.length : 0, 6);
  const question = Buffer.concat([encodeName(spec.name), Buffer.from([0, spec.qtype ?? TYPE_A, 0, 1])]);
  const rrs = response
    ? answers.map((a) => {
        const { type, data } = encodeAddress(a);
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(type, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(30, 6);
        rr.writeUInt16BE(data.length, 10);
        return Buffer.concat([rr, data]);
      })
    : [];
  return Buffer.concat([header, question, ...rrs]);
}
