import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectHsm } from '../../src/core/hsm/connect';
import { generateKeyPair } from '../../src/core/hsm/keygen';
import { parseKeyType } from '../../src/core/hsm/key-spec';
import { createTestHsm } from '../helpers/softhsm';
import { runKeyrite } from '../helpers/cli';

const hsm = createTestHsm(['x509-cli']);
const home = mkdtempSync(path.join(os.tmpdir(), 'keyrite-home-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'keyrite-x509-cli-'));
const env = {
  ...process.env,
  KEYRITE_HOME: home,
  KEYRITE_PKCS11_MODULE: hsm.modulePath,
  KEYRITE_TOKEN_LABEL: 'x509-cli',
  KEYRITE_PIN: hsm.userPin,
  SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
};

const keyrite = (...args: string[]) => runKeyrite(args, { env });

function openssl(args: string[]): { status: number; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const save = (name: string, text: string): string => {
  const p = path.join(work, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  const conn = connectHsm(hsm.config('x509-cli'));
  try {
    conn.session.login(hsm.userPin);
    generateKeyPair(conn.session, { spec: parseKeyType('ec-p384'), label: 'cli-ec' });
    generateKeyPair(conn.session, { spec: parseKeyType('rsa-3072'), label: 'cli-rsa' });
  } finally {
    conn.close();
  }
});

describe('keyrite export', () => {
  it('pub prints the SPKI PEM on stdout and the fingerprint on stderr', () => {
    const r = keyrite('export', 'pub', '--label', 'cli-ec');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[^]*-----END PUBLIC KEY-----\n$/);
    const pem = save('cli-ec.pub.pem', r.stdout);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-outform', 'DER']);
    const sha = execFileSync('openssl', ['dgst', '-sha256', '-c'], { input: der }).toString();
    expect(r.stderr).toContain(`SHA-256 ${/= (.*)$/m.exec(sha)![1].toUpperCase()}`);
    expect(r.stderr).toMatch(/Words {3}(\w+ ){5}\w+/);
  });

  it('csr --out writes a request openssl verifies, and refuses to overwrite it', () => {
    const out = path.join(work, 'cli.csr.pem');
    const r = keyrite('export', 'csr', '--label', 'cli-rsa', '--subject', 'CN=CLI Intermediate, O=Keyrite Tests', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const v = openssl(['req', '-in', out, '-verify', '-noout', '-subject']);
    expect(v.status).toBe(0);
    expect(v.out).toContain('subject=CN = CLI Intermediate, O = Keyrite Tests');
    const again = keyrite('export', 'csr', '--label', 'cli-rsa', '--subject', 'CN=CLI Intermediate', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[OUTPUT_EXISTS]');
  });

  it('root-cert prints a root certificate that openssl verifies, with the days asked for', () => {
    const r = keyrite('export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=CLI Root, O=Keyrite Tests, C=NL', '--days', '730', '--path-length', '0');
    expect(r.code).toBe(0);
    const pem = save('cli.root.pem', r.stdout);
    expect(openssl(['verify', '-CAfile', pem, pem]).status).toBe(0);
    const text = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-text']).toString();
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const dates = execFileSync('openssl', ['x509', '-in', pem, '-noout', '-startdate', '-enddate']).toString();
    const [start, end] = [/notBefore=(.*)/.exec(dates)![1], /notAfter=(.*)/.exec(dates)![1]].map((d) => new Date(d).getTime());
    expect(end - start).toBe(730 * 86_400_000);
    expect(r.stderr).toMatch(/Serial {2}[0-9a-f]{16,}/);
  });

  it.each([
    { args: ['export', 'root-cert', '--label', 'missing', '--subject', 'CN=x', '--days', '10'], code: 'HSM_KEY_NOT_FOUND' },
    { args: ['export', 'pub', '--label', 'missing'], code: 'HSM_KEY_NOT_FOUND' },
    { args: ['export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=', '--days', '10'], code: 'X509_SUBJECT_INVALID' },
    { args: ['export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=x', '--days', '0'], code: 'X509_VALIDITY_INVALID' },
    { args: ['export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=x', '--days', '20000'], code: 'POLICY_VIOLATION' },
    { args: ['export', 'root-cert', '--label', 'cli-rsa', '--subject', 'CN=x', '--days', '10', '--hash', 'SHA-1'], code: 'POLICY_VIOLATION' },
    { args: ['export', 'csr', '--label', 'cli-ec', '--subject', 'XX=y'], code: 'X509_SUBJECT_INVALID' },
    { args: ['export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=x', '--profile', 'no-such-profile'], code: 'X509_PROFILE_NOT_FOUND' },
    { args: ['export', 'root-cert', '--label', 'cli-ec', '--subject', 'CN=x', '--days', 'ten'], code: 'USAGE' },
  ])('$args.1 $args.3 … → [$code], one line on stderr, nothing on stdout', ({ args, code }) => {
    const r = keyrite(...args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`[${code}]`);
  });

  it('the written PEM matches what stdout would have shown', () => {
    const out = path.join(work, 'cli-ec.pub.out.pem');
    expect(keyrite('export', 'pub', '--label', 'cli-ec', '--out', out).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(keyrite('export', 'pub', '--label', 'cli-ec').stdout);
  });
});
