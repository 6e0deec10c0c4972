import { readKeyType } from '../keys/key-types';
import type { KeyPolicy, KeyPurpose } from './schema';
import { KEY_USAGES } from './schema';
import { ReportBuilder, type PolicyReport } from './report';

const DAY_MS = 24 * 60 * 60 * 1000;

function isCaPurpose(purpose: KeyPurpose): boolean {
  return purpose === 'root-signing' || purpose === 'intermediate-signing';
}

function knownPurpose(policy: KeyPolicy, b: ReportBuilder, purpose: string): purpose is KeyPurpose {
  return b.rule('purpose.known', Object.hasOwn(policy.purposes, purpose), 'error', () => `'${purpose}' is not a key purpose. Use one of: ${Object.keys(policy.purposes).join(', ')}.`);
}

/** Key type and size for a purpose (the key policy's key requirements; RSA ≥ 3072 for CA keys). */
export function checkKeyType(policy: KeyPolicy, req: { type: string; purpose: KeyPurpose }): PolicyReport {
  const b = new ReportBuilder();
  if (!knownPurpose(policy, b, req.purpose)) return b.build();
  const p = policy.purposes[req.purpose];
  // Read loosely, so weak types (rsa-1024, ec-p192) reach the rules instead of a parse error.
  const parsed = readKeyType(req.type);
  if (!b.rule('key.type.known', parsed !== undefined, 'error', () => `'${req.type}' is not a key type Keyrite knows. Write it as rsa-3072, ec-p384 or aes-256.`) || !parsed) {
    return b.build();
  }
  const algOk = b.rule('key.purpose.algorithm', p.algorithms.includes(parsed.algorithm), 'error', () => `A ${req.purpose} key must be ${p.algorithms.map((a) => a.toUpperCase()).join(' or ')}; ${req.type} is not allowed for it (key separation).`);
  if (!algOk) return b.build();
  const rsa = policy.keyTypes.rsa;
  const ec = policy.keyTypes.ec;
  switch (parsed.algorithm) {
    case 'rsa': {
      const bits = parsed.bits;
      let sizeOk = b.rule('key.rsa.min-size', bits >= rsa.minSize, 'error', () => `RSA-${bits} is too weak: RSA keys must have at least ${rsa.minSize} bits. Choose rsa-${Math.max(rsa.recommendedMinSize, rsa.minSize)} or larger.`);
      sizeOk = b.rule('key.rsa.max-size', bits <= rsa.maxSize, 'error', () => `RSA-${bits} is larger than the policy allows (${rsa.maxSize} bits at most). Choose rsa-${rsa.maxSize} or smaller.`) && sizeOk;
      if (p.rsaMinSize !== undefined) {
        const min = p.rsaMinSize;
        sizeOk = b.rule(isCaPurpose(req.purpose) ? 'key.rsa.root-min-size' : 'key.rsa.purpose-min-size', bits >= min, 'error', () => `RSA-${bits} is too small for a ${req.purpose} key: it needs at least ${min} bits. Choose rsa-${min} or rsa-4096.`) && sizeOk;
      }
      // An already refused size needs no extra advice.
      if (sizeOk) b.rule('key.rsa.recommended-size', bits >= rsa.recommendedMinSize, 'warning', () => `RSA-${bits} is allowed, but ${rsa.recommendedMinSize} bits or more is recommended.`);
      break;
    }
    case 'ec': {
      const curve = parsed.curve;
      b.rule('key.ec.curve', ec.allowedCurves.includes(curve), 'error', () => `EC ${curve} is not an allowed curve. Use one of: ${ec.allowedCurves.join(', ')}.`);
      if (ec.recommendedCurves.length > 0) {
        b.rule('key.ec.recommended-curve', !ec.allowedCurves.includes(curve) || ec.recommendedCurves.includes(curve), 'warning', () => `EC ${curve} is allowed, but ${ec.recommendedCurves.join(' or ')} is recommended.`);
      }
      break;
    }
    case 'aes': {
      const sizes = policy.keyTypes.aes.allowedSizes as number[];
      b.rule('key.aes.size', sizes.includes(parsed.bits), 'error', () => `AES-${parsed.bits} is not allowed. Use AES-${sizes.join(' or AES-')}.`);
      break;
    }
  }
  return b.build();
}

export function normalizeHash(hash: string): string {
  const h = hash.trim().toUpperCase().replace(/_/g, '-');
  const m = /^SHA-?(1|224|256|384|512)$/.exec(h);
  if (m) return `SHA-${m[1]}`;
  const m3 = /^SHA3-?(256|384|512)$/.exec(h);
  if (m3) return `SHA3-${m3[1]}`;
  return h;
}

/** Signature scheme and hash (SHA-256+; SHA-1 and MD5 forbidden), and that the purpose signs at all. */
export function checkSignatureAlgorithm(policy: KeyPolicy, req: { scheme: 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1'; hash: string; purpose: KeyPurpose }): PolicyReport {
  const b = new ReportBuilder();
  if (!knownPurpose(policy, b, req.purpose)) return b.build();
  const p = policy.purposes[req.purpose];
  const s = policy.signatures;
  b.rule('sig.purpose.signs', p.usage.includes('sign'), 'error', () => `A ${req.purpose} key never signs (its usage is ${p.usage.join(', ')}); use a signing key (key separation).`);
  b.rule('sig.scheme.allowed', (s.schemes as string[]).includes(req.scheme), 'error', () => `Signature scheme '${req.scheme}' is not allowed. Use one of: ${s.schemes.join(', ')}.`);
  const needs = req.scheme === 'ecdsa' ? 'ec' : 'rsa';
  b.rule('sig.scheme.key-algorithm', p.algorithms.includes(needs), 'error', () => `${req.scheme} needs an ${needs.toUpperCase()} key, which a ${req.purpose} key is not.`);
  const hash = normalizeHash(req.hash);
  const forbidden = (s.forbiddenHashes as string[]).includes(hash);
  b.rule('sig.hash.forbidden', !forbidden, 'error', () => `${hash} is forbidden for signatures: it is broken. Use ${s.allowedHashes.join(', ')}.`);
  if (!forbidden) {
    b.rule('sig.hash.allowed', (s.allowedHashes as string[]).includes(hash), 'error', () => `Hash '${req.hash}' is not allowed for signatures. Use one of: ${s.allowedHashes.join(', ')}.`);
  }
  return b.build();
}

/** Certificate validity (days) against the purpose's maximum. */
export function checkValidity(policy: KeyPolicy, req: { purpose: KeyPurpose; days: number }): PolicyReport {
  const b = new ReportBuilder();
  if (!knownPurpose(policy, b, req.purpose)) return b.build();
  const max = policy.purposes[req.purpose].maxValidityDays;
  const positive = b.rule('validity.positive', Number.isInteger(req.days) && req.days > 0, 'error', () => `A validity of ${req.days} days is not a positive whole number of days.`);
  if (positive) {
    b.rule('validity.max', req.days <= max, 'error', () => `A ${req.purpose} certificate may be valid for at most ${max} days (about ${Math.round((max / 365.25) * 10) / 10} years); ${req.days} days were requested.`);
  }
  return b.build();
}

/** m-of-n bounds: 2 ≤ m ≤ n ≤ maxCount are errors; m > n/2 is recommended (warning). */
export function checkShareThreshold(policy: KeyPolicy, req: { threshold: number; count: number }): PolicyReport {
  const b = new ReportBuilder();
  const { threshold: m, count: n } = req;
  const sh = policy.shares;
  const ints = b.rule('shares.integer', Number.isInteger(m) && Number.isInteger(n), 'error', () => `Threshold and share count must be whole numbers (got ${m} of ${n}).`);
  if (!ints) return b.build();
  b.rule('shares.threshold.min', m >= sh.minThreshold, 'error', () => `A threshold of ${m} is too low: at least ${sh.minThreshold} custodians must be needed to rebuild the KEK.`);
  b.rule('shares.threshold.le-count', m <= n, 'error', () => `A threshold of ${m} cannot be met with only ${n} share(s). Make the threshold at most the share count.`);
  b.rule('shares.count.max', n <= sh.maxCount, 'error', () => `${n} shares is more than the ${sh.maxCount} allowed. Split into at most ${sh.maxCount} shares.`);
  if (sh.recommendMajority) {
    b.rule('shares.threshold.majority', m > n / 2, 'warning', () => `A threshold of ${m} of ${n} is not a majority: two separate groups of custodians could each rebuild the KEK. ${Math.floor(n / 2) + 1} of ${n} or more is recommended.`);
  }
  return b.build();
}

/**
 * Key custody: a wrap-with-trusted key leaves the token only under the security officer's trusted
 * KEK. Any other wrappable key can be wrapped by anyone with the user PIN under a key of their
 * choosing, so it is allowed only where the policy permits it, and always with a warning.
 */
export function checkKeyCustody(policy: KeyPolicy, req: { custody: 'non-extractable' | 'wrap-with-trusted' | 'wrap-untrusted' }): PolicyReport {
  const b = new ReportBuilder();
  if (req.custody !== 'wrap-untrusted') return b.build();
  const allowed = policy.custody.untrustedKek === 'allowed';
  if (b.rule('custody.untrusted-kek', allowed, 'error', () => 'The key policy forbids backing up a key under an untrusted KEK (trustedKek=false): use the default trusted KEK, made by the security officer, on a token that enforces CKA_WRAP_WITH_TRUSTED.')) {
    b.rule('custody.untrusted-kek', false, 'warning', () => 'The key will be generated without CKA_WRAP_WITH_TRUSTED and backed up under an untrusted KEK (trustedKek=false): anyone with the user PIN could wrap it under a key of their choosing and take it out of the HSM.');
  }
  return b.build();
}

/** Usage flags for a purpose (key separation: signing keys sign/verify only; KEKs wrap/unwrap only). */
export function checkUsage(policy: KeyPolicy, req: { purpose: KeyPurpose; usage: string[] }): PolicyReport {
  const b = new ReportBuilder();
  if (!knownPurpose(policy, b, req.purpose)) return b.build();
  const unknown = req.usage.filter((u) => !(KEY_USAGES as readonly string[]).includes(u));
  b.rule('usage.known', unknown.length === 0, 'error', () => `Unknown usage flag(s): ${unknown.join(', ')}. Known flags: ${KEY_USAGES.join(', ')}.`);
  const allowed = policy.purposes[req.purpose].usage as string[];
  const extra = req.usage.filter((u) => (KEY_USAGES as readonly string[]).includes(u) && !allowed.includes(u));
  b.rule('usage.separation', extra.length === 0, 'error', () => `A ${req.purpose} key must not ${extra.join(', ')}: it may only ${allowed.join(', ')} (key separation).`);
  return b.build();
}

/** When a key of this purpose created at `createdAt` is due for rotation. */
export function rotationDue(policy: KeyPolicy, purpose: KeyPurpose, createdAt: Date): Date {
  return new Date(createdAt.getTime() + policy.purposes[purpose].rotationDays * DAY_MS);
}
