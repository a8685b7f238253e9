import { buildDnsMessage, parseDnsMessage, qtypeName, rcodeName } from '../../src/events/dns-message';

describe('parseDnsMessage', () => {
  it('reads the header, the question and A answers of a response', () => {
    const m = buildDnsMessage({ id: 99, name: 'a.b.example', qtype: 1, rcode: 0, answers: ['192.0.2.1'] });
    expect(parseDnsMessage(m, 0, m.length)).toEqual({
      id: 99,
      isResponse: true,
      tc: false,
      rcode: 0,
      questionName: 'a.b.example',
      qtype: 1,
      answerCount: 1,
      addresses: ['192.0.2.1'],
    });
  });

  it('reads the TC bit of an answer truncated to fit UDP', () => {
    const m = buildDnsMessage({ id: 4, name: 'big.example', rcode: 0, tc: true });
    expect(parseDnsMessage(m, 0, m.length)).toMatchObject({ id: 4, isResponse: true, tc: true, rcode: 0 });
  });

  it('returns null below the 12-byte header and keeps the header of a message cut in the question', () => {
    const m = buildDnsMessage({ id: 5, name: 'long-name.example' });
    expect(parseDnsMessage(m, 0, 11)).toBeNull();
    expect(parseDnsMessage(m, 0, 16)).toMatchObject({ id: 5, isResponse: false, questionName: '', qtype: 0 });
  });

  it('stops on a compression pointer loop instead of spinning', () => {
    const m = Buffer.alloc(16);
    m.writeUInt16BE(1, 4); // one question
    m.writeUInt16BE(0xc00c, 12); // a pointer to itself
    expect(parseDnsMessage(m, 0, 16)).toMatchObject({ questionName: '' });
  });

  it('reads a message at an offset inside a larger buffer', () => {
    const m = buildDnsMessage({ id: 1, name: 'x.example', rcode: 2 });
    const buf = Buffer.concat([Buffer.alloc(40, 0xff), m]);
    expect(parseDnsMessage(buf, 40, m.length)).toMatchObject({ rcode: 2, questionName: 'x.example' });
  });
});

describe('rcodeName / qtypeName', () => {
  it('names the common codes and types and falls back to numbers', () => {
    expect([0, 2, 3, 5, 14].map(rcodeName)).toEqual([
      'NOERROR',
      'SERVFAIL',
      'NXDOMAIN',
      'REFUSED',
      'RCODE14',
    ]);
    expect([1, 28, 33, 65, 999].map(qtypeName)).toEqual(['A', 'AAAA', 'SRV', 'HTTPS', 'TYPE999']);
  });
});
