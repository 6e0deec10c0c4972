import { z } from 'zod';

export const KEY_PURPOSES = ['root-signing', 'intermediate-signing', 'transcript-signing', 'kek'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export const KEY_USAGES = ['sign', 'verify', 'wrap', 'unwrap', 'encrypt', 'decrypt', 'derive'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const SIGNATURE_SCHEMES = ['ecdsa', 'rsa-pss', 'rsa-pkcs1'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

/** Hash names as policies write them; compared after normalization ('sha256' = 'SHA-256'). */
export const HASH_NAMES = ['MD5', 'SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512'] as const;

const curve = z.string().regex(/^P-\d+$/, 'a curve is written P-<bits>, e.g. P-384');
const hash = z.enum(HASH_NAMES);
const positiveInt = z.number().int().positive();

const purposeSchema = z.strictObject({
  algorithms: z.array(z.enum(['rsa', 'ec', 'aes'])).min(1),
  /** Stricter RSA minimum for this purpose (CA keys). */
  rsaMinSize: positiveInt.optional(),
  usage: z.array(z.enum(KEY_USAGES)).min(1),
  rotationDays: positiveInt,
  maxValidityDays: positiveInt,
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  name: z.string().min(1),
  keyTypes: z.strictObject({
    rsa: z.strictObject({
      minSize: positiveInt,
      maxSize: positiveInt,
      recommendedMinSize: positiveInt,
    }),
    ec: z.strictObject({
      allowedCurves: z.array(curve).min(1),
      recommendedCurves: z.array(curve),
    }),
    aes: z.strictObject({
      allowedSizes: z.array(z.union([z.literal(128), z.literal(192), z.literal(256)])).min(1),
    }),
  }),
  signatures: z.strictObject({
    schemes: z.array(z.enum(SIGNATURE_SCHEMES)).min(1),
    allowedHashes: z.array(hash).min(1),
    forbiddenHashes: z.array(hash),
  }),
  purposes: z.strictObject({
    'root-signing': purposeSchema,
    'intermediate-signing': purposeSchema,
    'transcript-signing': purposeSchema,
    kek: purposeSchema,
  }),
  custody: z.strictObject({
    /**
     * custody.untrusted-kek: may a wrappable key be generated without CKA_WRAP_WITH_TRUSTED and
     * backed up under a KEK the user made (only when a ceremony asks for it: trustedKek=false)?
     */
    untrustedKek: z.enum(['forbidden', 'allowed']),
  }),
  shares: z.strictObject({
    minThreshold: z.number().int().min(2, 'a threshold below 2 means one person alone can rebuild the KEK'),
    maxCount: positiveInt,
    recommendMajority: z.boolean(),
  }),
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type PurposePolicy = PolicyDocument['purposes'][KeyPurpose];

/** A loaded, validated policy, with where it came from (recorded as evidence by ceremonies). */
export interface KeyPolicy extends PolicyDocument {
  source: { file: string; sha256: string };
}
