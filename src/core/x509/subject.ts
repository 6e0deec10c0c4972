// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { Name, type JsonNameParams } from '@peculiar/x509';
import { KeyriteError } from '../errors';

/**
 * Attribute types a Keyrite subject may use (RFC 5280 §4.1.2.4 / RFC 4519 short names). Anything
 * else is refused rather than guessed: a typo in a root's subject can never be fixed later.
 */
export const SUBJECT_ATTRIBUTES: Readonly<Record<string, { oid: string; maxLength: number; encoding: 'utf8String' | 'printableString' | 'ia5String' }>> = {
  CN: { oid: '2.5.4.3', maxLength: 64, encoding: 'utf8String' },
  O: { oid: '2.5.4.10', maxLength: 64, encoding: 'utf8String' },
  OU: { oid: '2.5.4.11', maxLength: 64, encoding: 'utf8String' },
  C: { oid: '2.5.4.6', maxLength: 2, encoding: 'printableString' }, // RFC 5280: PrintableString
  ST: { oid: '2.5.4.8', maxLength: 128, encoding: 'utf8String' },
  L: { oid: '2.5.4.7', maxLength: 128, encoding: 'utf8String' },
  DC: { oid: '0.9.2342.19200300.100.1.25', maxLength: 63, encoding: 'ia5String' }, // RFC 4519: IA5String
  SERIALNUMBER: { oid: '2.5.4.5', maxLength: 64, encoding: 'printableString' }, // RFC 5280: PrintableString
};

export interface SubjectAttribute {
  type: string;
  value: string;
}

function invalid(subject: string, reason: string): KeyriteError {
  return new KeyriteError('X509_SUBJECT_INVALID', `The subject '${subject}' is not a valid distinguished name: ${reason}. Write it as "CN=Example Root CA, O=Example, C=NL".`, { details: { subject, reason } });
}

/** Split on unescaped separators; a backslash escapes the next character (RFC 4514). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1];
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

const unescape = (value: string): string => value.replace(/\\(.)/g, '$1');

/**
 * Parse "CN=…, O=…, C=…" into RDNs, in the order written (the order they are encoded in the
 * certificate). Multi-valued RDNs use '+'. Throws X509_SUBJECT_INVALID naming the problem.
 */
export function parseSubject(subject: string): SubjectAttribute[][] {
  if (typeof subject !== 'string' || subject.trim() === '') throw invalid(String(subject), 'it is empty');
  const rdns: SubjectAttribute[][] = [];
  for (const rdnText of splitUnescaped(subject, ',')) {
    const rdn: SubjectAttribute[] = [];
    for (const part of splitUnescaped(rdnText, '+')) {
      const eq = part.indexOf('=');
      if (eq < 0) throw invalid(subject, `'${part.trim()}' has no '=' between attribute and value`);
      const type = part.slice(0, eq).trim().toUpperCase();
      const value = unescape(part.slice(eq + 1).trim());
      const rule = SUBJECT_ATTRIBUTES[type];
      if (!rule) throw invalid(subject, `'${part.slice(0, eq).trim()}' is not an attribute Keyrite accepts (use ${Object.keys(SUBJECT_ATTRIBUTES).join(', ')})`);
      if (value === '') throw invalid(subject, `${type} has an empty value`);
      if (type === 'C' && !/^[A-Z]{2}$/.test(value)) throw invalid(subject, `C must be a two-letter ISO 3166 country code in capitals, not '${value}'`);
      if (value.length > rule.maxLength) throw invalid(subject, `${type} is longer than ${rule.maxLength} characters`);
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(subject, `${type} contains a control character`);
      if (rule.encoding === 'printableString' && !/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) throw invalid(subject, `${type} may only use letters, digits, spaces and '()+,-./:=?`);
      if (rule.encoding === 'ia5String' && !/^[\x20-\x7e]*$/.test(value)) throw invalid(subject, `${type} may only use ASCII characters`);
      rdn.push({ type, value });
    }
    rdns.push(rdn);
  }
  if (!rdns.some((rdn) => rdn.some((a) => a.type === 'CN'))) throw invalid(subject, 'it has no CN (common name)');
  return rdns;
}

/**
 * Build the Name from OIDs and explicit string types, so the library never re-parses our text
 * (it would treat a leading '#' as hex and strip quotes).
 */
export function subjectToName(rdns: SubjectAttribute[][]): Name {
  const json: JsonNameParams = rdns.map((rdn) => {
    const entry: Record<string, Array<Record<string, string>>> = {};
    for (const a of rdn) {
      const rule = SUBJECT_ATTRIBUTES[a.type];
      (entry[rule.oid] ??= []).push({ [rule.encoding]: a.value });
    }
    return entry;
  });
  return new Name(json);
}

/** Canonical text form for comparisons and messages: "CN=a, O=b". */
export function formatSubject(rdns: SubjectAttribute[][]): string {
  return rdns.map((rdn) => rdn.map((a) => `${a.type}=${a.value.replace(/([,+\\])/g, '\\$1')}`).join('+')).join(', ');
}
