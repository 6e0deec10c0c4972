import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCertProfile, parseCertProfile } from '../../src/core/x509/profile';

const dir = mkdtempSync(path.join(os.tmpdir(), 'keyrite-profile-'));
const GOOD = `version: 1
name: t
purpose: root-signing
subject: CN=T
days: 10
extensions:
  basicConstraints: { ca: true, critical: true }
  keyUsage: { usages: [keyCertSign, cRLSign], critical: true }
  subjectKeyIdentifier: true
  authorityKeyIdentifier: true
`;

describe('certificate profiles (resources/profiles)', () => {
  it.each([
    ['root-ca', 'root-signing', 7305],
    ['cross-cert', 'root-signing', 1826],
    ['csr', 'intermediate-signing', 3653],
  ])('%s loads with CA extensions, critical', (name, purpose, days) => {
    const p = loadCertProfile(name);
    expect(p.purpose).toBe(purpose);
    expect(p.days).toBe(days);
    expect(p.extensions?.basicConstraints).toEqual({ ca: true, critical: true });
    expect(p.extensions?.keyUsage).toEqual({ usages: ['keyCertSign', 'cRLSign'], critical: true });
  });

  it('overrides replace fields; undefined overrides are ignored', () => {
    const p = loadCertProfile('root-ca', { subject: 'CN=Mine', days: 100, hash: undefined, pathLength: 2 });
    expect(p).toMatchObject({ subject: 'CN=Mine', days: 100, pathLength: 2, purpose: 'root-signing' });
    expect(p.hash).toBeUndefined();
  });

  it('SHA-1 parses (the policy refuses it later, naming its rule)', () => {
    expect(parseCertProfile(GOOD + 'hash: SHA-1\n', 't.yaml').hash).toBe('SHA-1');
  });

  it('a profile file can be given by path', () => {
    const file = path.join(dir, 'mine.yaml');
    writeFileSync(file, GOOD.replace('days: 10', 'days: 42'));
    expect(loadCertProfile(file).days).toBe(42);
  });

  it.each([
    ['an unknown field', GOOD + 'colour: blue\n', "p.yaml:11 is invalid at colour: unknown field 'colour'"],
    ['a misspelt extension', GOOD.replace('subjectKeyIdentifier', 'subjectKeyId'), 'at extensions.subjectKeyId: unknown field'],
    ['a bad hash', GOOD + 'hash: MD5\n', 'p.yaml:11 is invalid at hash: '],
    ['a bad key usage', GOOD.replace('cRLSign]', 'crlSign]'), 'p.yaml:8 is invalid at extensions.keyUsage.usages[1]: '],
    ['days as text', GOOD.replace('days: 10', 'days: ten'), 'p.yaml:5 is invalid at days: '],
    ['a negative pathLength', GOOD + 'pathLength: -1\n', 'p.yaml:11 is invalid at pathLength: '],
    ['broken YAML', 'version: 1\n  name: [', 'not valid YAML'],
    ['a duplicate key', GOOD + 'days: 11\n', 'not valid YAML'],
  ])('%s → X509_PROFILE_INVALID', (_name, text, message) => {
    expect(() => parseCertProfile(text, 'p.yaml')).toThrow(expect.objectContaining({ code: 'X509_PROFILE_INVALID', message: expect.stringContaining(message) }));
  });

  it.each(['no-such-profile', '../policies/default', 'Root CA'])('profile name %j → X509_PROFILE_NOT_FOUND', (name) => {
    expect(() => loadCertProfile(name)).toThrow(expect.objectContaining({ code: 'X509_PROFILE_NOT_FOUND' }));
  });
});
