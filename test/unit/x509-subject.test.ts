import { describe, expect, it } from 'vitest';
import { formatSubject, parseSubject, subjectToName } from '../../src/core/x509/subject';

describe('subject DN', () => {
  it('keeps the written order and encodes C as PrintableString, others as UTF8String', () => {
    const rdns = parseSubject('CN=Keyrite Root CA, O=Exämple, C=NL');
    expect(rdns).toEqual([[{ type: 'CN', value: 'Keyrite Root CA' }], [{ type: 'O', value: 'Exämple' }], [{ type: 'C', value: 'NL' }]]);
    const der = Buffer.from(subjectToName(rdns).toArrayBuffer());
    // SET { SEQ { OID 2.5.4.6, PrintableString "NL" } }
    expect(der.includes(Buffer.from('0603550406130' + '2' + '4e4c', 'hex'))).toBe(true);
    // CN as UTF8String (tag 0x0c)
    expect(der.includes(Buffer.concat([Buffer.from('0603550403' + '0c0f', 'hex'), Buffer.from('Keyrite Root CA')]))).toBe(true);
    expect(formatSubject(rdns)).toBe('CN=Keyrite Root CA, O=Exämple, C=NL');
  });

  it('accepts escaped commas, multi-valued RDNs, lower-case types and SERIALNUMBER', () => {
    expect(parseSubject('cn=Root\\, Inc+serialNumber=42, DC=example')).toEqual([
      [{ type: 'CN', value: 'Root, Inc' }, { type: 'SERIALNUMBER', value: '42' }],
      [{ type: 'DC', value: 'example' }],
    ]);
  });

  it('a value starting with # or holding quotes is kept literally', () => {
    const name = subjectToName(parseSubject('CN=#01 "quoted"'));
    expect(name.toString()).toContain('01 \\"quoted\\"');
  });

  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['CN=', 'CN has an empty value'],
    ['CN=  ', 'CN has an empty value'],
    ['CN', "'CN' has no '='"],
    ['XX=foo', "'XX' is not an attribute Keyrite accepts"],
    ['E=a@b.c, CN=x', "'E' is not an attribute"],
    ['O=Example', 'it has no CN'],
    ['CN=x, C=nl', 'C must be a two-letter'],
    ['CN=x, C=NLD', 'C must be a two-letter'],
    ['CN=' + 'a'.repeat(65), 'CN is longer than 64 characters'],
    ['CN=a\u0007b', 'control character'],
    ['CN=x, SERIALNUMBER=a_b', 'SERIALNUMBER may only use'],
    ['CN=x,, O=y', "'' has no '='"],
  ])('%j → X509_SUBJECT_INVALID (%s)', (subject, text) => {
    expect(() => parseSubject(subject)).toThrow(expect.objectContaining({ code: 'X509_SUBJECT_INVALID', message: expect.stringContaining(text) }));
  });
});
