import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { resolveResource } from '../config/resources';
import { parseYamlWithSchema } from '../config/yaml-schema';
import { isKeyriteError, KeyriteError } from '../errors';
import type { ProfileHash } from './algorithm';

export const KEY_USAGE_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

export interface ProfileExtensions {
  basicConstraints: { ca: boolean; critical: boolean };
  keyUsage: { usages: KeyUsageName[]; critical: boolean };
  subjectKeyIdentifier: boolean;
  authorityKeyIdentifier: boolean;
}

export interface CertProfile {
  subject: string;
  days: number;
  /** Default: now, to the second. */
  notBefore?: Date;
  /** Default: notBefore + days. When given it wins over `days` (the policy still sees the real span). */
  notAfter?: Date;
  pathLength?: number;
  hash?: ProfileHash;
  scheme?: 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1';
  purpose: 'root-signing' | 'intermediate-signing';
  /** Default: the CA extensions of the root-ca profile. */
  extensions?: ProfileExtensions;
}

/** What a CA certificate must carry (RFC 5280 §4.2.1.3, §4.2.1.9); used when a profile gives none. */
export const CA_EXTENSIONS: ProfileExtensions = {
  basicConstraints: { ca: true, critical: true },
  keyUsage: { usages: ['keyCertSign', 'cRLSign'], critical: true },
  subjectKeyIdentifier: true,
  authorityKeyIdentifier: true,
};

const profileSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string().optional(),
  purpose: z.enum(['root-signing', 'intermediate-signing']),
  subject: z.string().min(1),
  days: z.number().int(),
  notBefore: z.date().optional(),
  notAfter: z.date().optional(),
  pathLength: z.number().int().min(0).optional(),
  // SHA-1 parses so that the key policy refuses it with its rule id, before anything is signed.
  hash: z.enum(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']).optional(),
  scheme: z.enum(['ecdsa', 'rsa-pss', 'rsa-pkcs1']).optional(),
  extensions: z.strictObject({
    basicConstraints: z.strictObject({ ca: z.boolean(), critical: z.boolean() }),
    keyUsage: z.strictObject({ usages: z.array(z.enum(KEY_USAGE_NAMES)).min(1), critical: z.boolean() }),
    subjectKeyIdentifier: z.boolean(),
    authorityKeyIdentifier: z.boolean(),
  }),
});

/** Resolve a profile name ('root-ca') to resources/profiles/<name>.yaml; a path is used as given. */
export function profileFile(name: string): string {
  if (name.includes('/') || name.includes('\\') || name.endsWith('.yaml') || name.endsWith('.yml')) return path.resolve(name);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new KeyriteError('X509_PROFILE_NOT_FOUND', `'${name}' is not a certificate profile name. Use root-ca, cross-cert or csr, or give the path of a profile file.`, { details: { name } });
  }
  try {
    return resolveResource(`profiles/${name}.yaml`);
  } catch (e) {
    if (isKeyriteError(e, 'RESOURCE_MISSING')) {
      throw new KeyriteError('X509_PROFILE_NOT_FOUND', `There is no certificate profile '${name}'. Use root-ca, cross-cert or csr, or give the path of a profile file.`, { details: { name }, cause: e });
    }
    throw e;
  }
}

/** Parse and validate profile text; problems name the file, the line and the field path. */
export function parseCertProfile(text: string, file: string): CertProfile {
  const { version: _v, name: _n, description: _d, ...profile } = parseYamlWithSchema(text, file, profileSchema, 'X509_PROFILE_INVALID', 'certificate profile', { remember: true });
  return profile;
}

/**
 * Load a certificate profile from resources/profiles (or a file) and apply overrides — typically
 * the subject and days a ceremony script or the operator supplies. Undefined overrides are ignored.
 */
export function loadCertProfile(name: string, overrides: Partial<CertProfile> = {}): CertProfile {
  const file = profileFile(name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeyriteError('X509_PROFILE_NOT_FOUND', `Cannot read the certificate profile '${file}' (${(e as NodeJS.ErrnoException).code ?? String(e)}). Check the path.`, { details: { file }, cause: e });
  }
  const profile = parseCertProfile(text, file);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<CertProfile>;
  return { ...profile, ...defined };
}
