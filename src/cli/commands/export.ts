import type { Command } from 'commander';
import { DEMO_USER_PIN, resolveHsmConfig, type HsmConfig } from '../../core/hsm/config';
import { withHsm } from '../../core/hsm/connect';
import { loadPolicy } from '../../core/policy';
import { exportPublicKey, issueCsr, issueRootCertificate, loadCertProfile, type ProfileHash } from '../../core/x509';
import { checkOutputFile } from '../../core/fs/output-dir';
import { emit, readTokenPin, usage } from '../io';

type Scheme = 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1';

/** SHA-1 parses so the key policy, not the CLI, refuses it with its rule id. */
function parseHash(value: string | undefined): ProfileHash | undefined {
  if (value === undefined) return undefined;
  const m = /^SHA-?(1|256|384|512)$/i.exec(value.trim());
  if (!m) throw usage(`--hash '${value}' is not a hash Keyrite knows. Use SHA-256, SHA-384 or SHA-512.`);
  return `SHA-${m[1]}` as ProfileHash;
}

function parseScheme(value: string | undefined): Scheme | undefined {
  if (value === undefined) return undefined;
  if (value === 'ecdsa' || value === 'rsa-pss' || value === 'rsa-pkcs1') return value;
  throw usage(`--scheme '${value}' is not a signature scheme. Use ecdsa, rsa-pss or rsa-pkcs1.`);
}

function parseInteger(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw usage(`${name} '${value}' is not a whole number.`);
  return Number(value);
}

/** Facts for the operator go to stderr, so stdout carries only the PEM (pipe-friendly). */
function note(lines: string[]): void {
  process.stderr.write(lines.map((l) => `${l}\n`).join(''));
}

interface CommonOptions {
  label: string;
  out?: string;
  pinFile?: string;
}

/** --out is checked before the HSM is touched: a wrong path costs no PIN and no signature. */
function checkOut(opts: CommonOptions): void {
  if (opts.out) checkOutputFile(opts.out, 'output file');
}

async function pinFor(opts: CommonOptions, config: HsmConfig): Promise<string> {
  return readTokenPin(config, opts.pinFile, config.demo ? DEMO_USER_PIN : undefined);
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('export public keys, CSRs and root certificates of token keys (signed inside the HSM)');

  exp
    .command('pub')
    .description('print the public key (SPKI, PEM) of a token key; its SHA-256 fingerprint goes to stderr')
    .requiredOption('--label <label>', 'CKA_LABEL of the key')
    .option('--out <file>', 'write the PEM to this file (never overwrites)')
    .action(async (opts: CommonOptions) => {
      checkOut(opts);
      const config = resolveHsmConfig();
      // Public objects are readable without login.
      const pub = await withHsm(config, null, ({ session }) => exportPublicKey(session, opts.label));
      emit(pub.pem, opts.out);
      note([`SHA-256 ${pub.fingerprint.colonHex}`, `Words   ${pub.fingerprint.words.join(' ')}`]);
    });

  exp
    .command('csr')
    .description('make a PKCS#10 request for a token key, signed inside the HSM')
    .requiredOption('--label <label>', 'CKA_LABEL of the key')
    .requiredOption('--subject <dn>', 'subject, e.g. "CN=Example Intermediate CA, O=Example, C=NL"')
    .option('--hash <hash>', 'SHA-256 | SHA-384 | SHA-512 (default: by key size)')
    .option('--scheme <scheme>', 'ecdsa | rsa-pss | rsa-pkcs1 (default: ecdsa for EC, rsa-pss for RSA)')
    .option('--profile <name>', 'certificate profile name or file', 'csr')
    .option('--policy <file>', 'key policy file (default: the bundled policy)')
    .option('--out <file>', 'write the PEM to this file (never overwrites)')
    .option('--pin-file <file>', 'read the user PIN from this file')
    .action(async (opts: CommonOptions & { subject: string; hash?: string; scheme?: string; profile: string; policy?: string }) => {
      checkOut(opts);
      const hash = parseHash(opts.hash);
      const scheme = parseScheme(opts.scheme);
      const profile = loadCertProfile(opts.profile);
      const policy = loadPolicy(opts.policy);
      const config = resolveHsmConfig();
      const pin = await pinFor(opts, config);
      const csr = await withHsm(config, { pin }, ({ session }) => issueCsr(session, { label: opts.label, subject: opts.subject, hash, scheme, profile, policy }));
      emit(csr.pem, opts.out);
    });

  exp
    .command('root-cert')
    .description('make a self-signed root CA certificate for a token key, signed inside the HSM and linted before and after')
    .requiredOption('--label <label>', 'CKA_LABEL of the key')
    .requiredOption('--subject <dn>', 'subject, e.g. "CN=Example Root CA, O=Example, C=NL"')
    .option('--days <n>', 'validity in days (default: the profile\'s)')
    .option('--path-length <n>', 'basicConstraints pathLen')
    .option('--hash <hash>', 'SHA-256 | SHA-384 | SHA-512 (default: by key size)')
    .option('--scheme <scheme>', 'ecdsa | rsa-pss | rsa-pkcs1 (default: ecdsa for EC, rsa-pss for RSA)')
    .option('--profile <name>', 'certificate profile name or file', 'root-ca')
    .option('--policy <file>', 'key policy file (default: the bundled policy)')
    .option('--out <file>', 'write the PEM to this file (never overwrites)')
    .option('--pin-file <file>', 'read the user PIN from this file')
    .action(async (opts: CommonOptions & { subject: string; days?: string; pathLength?: string; hash?: string; scheme?: string; profile: string; policy?: string }) => {
      checkOut(opts);
      const profile = loadCertProfile(opts.profile, {
        subject: opts.subject,
        days: parseInteger('--days', opts.days),
        pathLength: parseInteger('--path-length', opts.pathLength),
        hash: parseHash(opts.hash),
        scheme: parseScheme(opts.scheme),
      });
      const policy = loadPolicy(opts.policy);
      const config = resolveHsmConfig();
      const pin = await pinFor(opts, config);
      const cert = await withHsm(config, { pin }, ({ session }) => issueRootCertificate(session, { label: opts.label, profile, policy }));
      emit(cert.pem, opts.out);
      note([
        `Serial  ${cert.serialHex}`,
        `Valid   ${cert.notBefore} to ${cert.notAfter}`,
        `Key SHA-256 ${cert.fingerprint.colonHex}`,
        ...cert.lint.filter((l) => l.includes(': warning: ')).map((l) => `Lint ${l}`),
      ]);
    });
}
