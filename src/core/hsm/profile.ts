import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KeyriteError } from '../errors';
import { resolveResource } from '../config/resources';
import { loadYamlWithSchema } from '../config/yaml-schema';

/**
 * What a PKCS#11 module does differently, kept as data (resources/hsm-profiles/*.yaml) so that
 * supporting another vendor is a YAML file plus a docs/hsm-notes.md section, not code.
 */

/** The two mechanisms that may yield RFC 5649 (AES key wrap with padding). */
export const WRAP_MECHANISMS = {
  /** PKCS#11 3.0 name for RFC 5649; 2.40 modules may still offer it (NSS does). */
  CKM_AES_KEY_WRAP_KWP: 0x210b,
  /** RFC 3394 + PKCS#7 padding by PKCS#11 2.40; RFC 5649 on SoftHSM. Only where a profile says so. */
  CKM_AES_KEY_WRAP_PAD: 0x210a,
} as const;
export type WrapMechanismName = keyof typeof WRAP_MECHANISMS;
const wrapMechanismNames = Object.keys(WRAP_MECHANISMS) as [WrapMechanismName, ...WrapMechanismName[]];

/** Where the value of a vendor attribute on unwrap comes from. */
export const UNWRAP_VALUE_SOURCES = ['ec-point'] as const;

const hexOrNumber = z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a number or 0x-prefixed hex').transform((s) => Number.parseInt(s, 16))]);

export const hsmProfileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase name like nss-softokn'),
  description: z.string().min(1),
  match: z.strictObject({
    /** Basenames of the module library this profile describes. */
    moduleFiles: z.array(z.string().min(1)),
  }),
  init: z.strictObject({
    /** none: C_Initialize(NULL args); library-parameters: the module needs init arguments (pReserved). */
    style: z.enum(['none', 'library-parameters']),
    /** Shown when the arguments are missing. */
    example: z.string().optional(),
  }),
  /** Mechanisms that produce RFC 5649 on this module, most preferred first. */
  rfc5649Mechanisms: z.array(z.enum(wrapMechanismNames)).min(1),
  /** Vendor attributes a private-key unwrap template needs on this module. */
  unwrapAttributes: z.array(z.strictObject({
    name: z.string().min(1),
    type: hexOrNumber,
    keyTypes: z.array(z.enum(['rsa', 'ec'])).min(1),
    value: z.enum(UNWRAP_VALUE_SOURCES),
  })),
  /** False where the SO PIN is fixed (NSS: empty) — no SO-only operations there. */
  soPinSettable: z.boolean(),
  /** The one label this module's token always has (NSS), or null. */
  fixedTokenLabel: z.string().min(1).nullable(),
  /** False where CKA_LOCAL is false even on keys the token generated (NSS). */
  reportsLocal: z.boolean(),
  /** True where the SO can create CKA_TRUSTED wrapping keys (for CKA_WRAP_WITH_TRUSTED keys). */
  trustedWrapKeys: z.boolean(),
  /** False where generating a key pair with CKA_COPYABLE in its template fails (NSS: CKR_GENERAL_ERROR). */
  copyableAttribute: z.boolean().default(true),
});

export type HsmProfile = z.infer<typeof hsmProfileSchema>;

export const GENERIC_PROFILE_NAME = 'generic';
const PROFILE_DIR = 'hsm-profiles';

let cache: HsmProfile[] | undefined;

/** Every profile shipped in resources/hsm-profiles, validated (one bad file stops everything). */
export function loadHsmProfiles(dir: string = path.dirname(resolveResource(`${PROFILE_DIR}/${GENERIC_PROFILE_NAME}.yaml`))): HsmProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const profiles = files.map((f) => loadYamlWithSchema(path.join(dir, f), hsmProfileSchema, 'HSM_PROFILE_INVALID', 'HSM module profile'));
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.name)) throw new KeyriteError('HSM_PROFILE_INVALID', `Two HSM module profiles in ${dir} are named '${p.name}'. Rename one of them.`, { details: { dir, name: p.name } });
    names.add(p.name);
  }
  if (!names.has(GENERIC_PROFILE_NAME)) throw new KeyriteError('HSM_PROFILE_INVALID', `The HSM module profiles in ${dir} lack '${GENERIC_PROFILE_NAME}.yaml', the profile for modules without one of their own. Reinstall Keyrite.`, { details: { dir } });
  return profiles;
}

function profiles(): HsmProfile[] {
  cache ??= loadHsmProfiles();
  return cache;
}

/** The profile for a module library path: matched by file name, else the generic one. */
export function profileForModule(modulePath: string, all: HsmProfile[] = profiles()): HsmProfile {
  const base = path.basename(modulePath);
  return all.find((p) => p.match.moduleFiles.includes(base)) ?? all.find((p) => p.name === GENERIC_PROFILE_NAME)!;
}
