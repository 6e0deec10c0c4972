/**
 * The IPC contract: every channel the renderer may call, declared once, with the schema of its
 * input and of its output. The main process validates every input against it (the renderer is
 * untrusted) and every output too (zod drops fields the schema does not name, so nothing the
 * core did not mean to show crosses over). The preload's `window.keyrite` and the renderer's
 * types are both derived from this one table.
 *
 * Only type-level imports from here reach the renderer bundle; zod itself stays on the node side.
 */
import { z } from 'zod';
import { CHANNELS, type Channel } from './channels';

// ---------------------------------------------------------------------------------------------
// Shared pieces

const id = z.string().min(1).max(200);
const path = z.string().min(1, 'Enter a folder or file path.').max(4096);
const noInput = z.union([z.undefined(), z.strictObject({})]);

export const IpcErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type IpcError = z.infer<typeof IpcErrorSchema>;
export type Result<T> = { ok: true; value: T } | { ok: false; error: IpcError };

// ---------------------------------------------------------------------------------------------
// app, hsm, settings

const AppInfo = z.object({
  version: z.string(),
  home: z.string(),
  platform: z.string(),
  hsm: z.object({ modulePath: z.string(), tokenLabel: z.string(), demo: z.boolean() }).nullable(),
  /** Why the HSM configuration could not be resolved, when it could not (shown, never fatal). */
  hsmProblem: IpcErrorSchema.nullable(),
  witnessAvailable: z.boolean(),
});

const Mechanism = z.object({
  name: z.string(),
  purpose: z.string(),
  required: z.boolean(),
  supported: z.boolean(),
  minKeySize: z.number().optional(),
  maxKeySize: z.number().optional(),
});

const HsmInfo = z.object({
  module: z.object({ path: z.string(), manufacturer: z.string(), description: z.string(), cryptokiVersion: z.string(), libraryVersion: z.string(), profile: z.string() }),
  selectedToken: z.string(),
  selectedBy: z.string(),
  demo: z.boolean(),
  tokens: z.array(
    z.object({
      slotId: z.string(),
      slotDescription: z.string(),
      present: z.boolean(),
      label: z.string(),
      serial: z.string(),
      manufacturer: z.string(),
      model: z.string(),
      firmware: z.string(),
      hardware: z.string(),
      flags: z.object({
        loginRequired: z.boolean(), userPinInitialized: z.boolean(), tokenInitialized: z.boolean(), writeProtected: z.boolean(), rng: z.boolean(),
        userPinCountLow: z.boolean(), userPinFinalTry: z.boolean(), userPinLocked: z.boolean(),
        soPinCountLow: z.boolean(), soPinFinalTry: z.boolean(), soPinLocked: z.boolean(),
      }),
      minPinLength: z.number(),
      maxPinLength: z.number(),
      mechanisms: z.array(Mechanism),
      uri: z.string(),
      selected: z.boolean(),
    }),
  ),
});

const SettingsValues = z.object({
  modulePath: z.string().nullable(),
  tokenLabel: z.string().nullable(),
  /** A PKCS#11 URI (RFC 7512) naming the token and module; wins over label and module path. */
  tokenUri: z.string().nullable(),
  /** PKCS#11 module initialisation arguments (NSS softokn: configdir=…). */
  moduleArgs: z.string().nullable(),
  outputFolder: z.string().nullable(),
});
const Settings = SettingsValues.extend({
  /** What is in force after environment variables and defaults are applied. */
  effective: z.object({ modulePath: z.string().nullable(), tokenLabel: z.string().nullable(), demo: z.boolean(), outputFolder: z.string() }),
  /** Environment variables that override the saved settings (KEYRITE_PKCS11_MODULE, …). */
  overriddenBy: z.array(z.string()),
});
const SettingsPatch = z.strictObject({
  modulePath: z.string().max(4096).nullable().optional(),
  tokenLabel: z.string().max(32, 'A PKCS#11 token label is at most 32 characters.').nullable().optional(),
  tokenUri: z.string().max(4096).nullable().optional(),
  moduleArgs: z.string().max(4096).nullable().optional(),
  outputFolder: z.string().max(4096).nullable().optional(),
});

// ---------------------------------------------------------------------------------------------
// bundles and inventory

const BundleVerification = z.object({
  dir: z.string(),
  ceremonyId: z.string(),
  title: z.string(),
  outcome: z.enum(['sealed', 'aborted']),
  demo: z.boolean(),
  startedAt: z.string(),
  sealedAt: z.string(),
  eventCount: z.number(),
  finalHash: z.string(),
  finalHashWords: z.array(z.string()),
  transcriptKeyFingerprint: z.string(),
  transcriptKeyWords: z.array(z.string()),
  participants: z.array(z.object({ id: z.string(), name: z.string(), roles: z.array(z.string()) })),
  keys: z.array(z.object({ id: z.string(), label: z.string().nullable(), type: z.string().nullable(), fingerprint: z.string().nullable() })),
  files: z.array(z.string()),
});

const InventoryKey = z.object({
  id: z.string(),
  label: z.string(),
  algorithm: z.string(),
  size: z.number(),
  curve: z.string().nullable(),
  purpose: z.string(),
  tokenLabel: z.string(),
  tokenSerial: z.string(),
  fingerprint: z.string(),
  createdAt: z.string(),
  ceremonyId: z.string(),
  status: z.string(),
  rotationDue: z.string().nullable(),
  /** Backups not recorded as destroyed. */
  backups: z.number(),
  certificates: z.number(),
  flags: z.object({ weak: z.boolean(), overdue: z.boolean(), reasons: z.array(z.string()) }),
});

// ---------------------------------------------------------------------------------------------
// ceremonies (mirrors src/core/ceremony/types.ts; src/main/ipc/contract-compat.ts proves they match)

const Participant = z.object({ id: z.string(), name: z.string(), roles: z.array(z.string()) });
const ParticipantInput = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, 'A person id is 1–32 lowercase letters, digits, dots, dashes or underscores (e.g. "alice").'),
  name: z.string().trim().min(1, 'Enter the person\'s name.').max(100),
  roles: z.array(z.string().min(1).max(64)).min(1, 'Give every person at least one role.').max(8),
  /**
   * A custodian's armored OpenPGP public key (pasted, or read by `openpgp:readKeyFile`): their
   * share is then sealed to it, never shown. Checked (and refused with an OPENPGP_* code) by the core.
   */
  openpgpKey: z.string().min(1).max(65536).optional(),
});
const RoleSpec = z.object({ id: z.string(), title: z.string(), min: z.number(), max: z.number() });
const ActionName = z.enum([
  'preflight', 'checkIn', 'hsmLogin', 'generateKey', 'selfTest', 'createBackup', 'handOutShares', 'collectShares',
  'restoreBackup', 'proveIdentity', 'exportPublicKey', 'issueRootCert', 'issueCsr', 'issueCrossCert', 'destroyKey',
  'recordStatement', 'resplitShares', 'updateKeyStatus', 'seal',
]);
const StepSummary = z.object({ index: z.number(), id: z.string(), title: z.string(), action: ActionName.nullable(), status: z.enum(['pending', 'running', 'done', 'aborted']) });
const BagRow = z.object({ shareIndex: z.number(), custodian: z.string(), custodianId: z.string().nullable() });
const StatementField = z.object({ id: z.string(), label: z.string(), kind: z.enum(['text', 'serial', 'sha256', 'person', 'bags']), required: z.boolean(), rows: z.array(BagRow).optional() });
const Signer = z.object({ personId: z.string(), name: z.string(), role: z.string() });

const Need = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('participants'), roles: z.array(RoleSpec) }),
  z.object({ kind: z.literal('preflightOverride'), interfaces: z.array(z.string()), message: z.string() }),
  z.object({ kind: z.literal('pin'), user: z.enum(['user', 'so']), tokenLabel: z.string(), role: z.string(), message: z.string() }),
  z.object({ kind: z.literal('signoff'), remaining: z.record(z.string(), z.number()), signed: z.array(Signer), attestation: z.string() }),
  z.object({
    kind: z.literal('shareHandout'),
    custodian: Participant,
    shareIndex: z.number(),
    of: z.number(),
    /** Words on screen: privacy → reveal → confirm. Sealed (`sealed` present): seal → confirm, words never shown. */
    phase: z.enum(['privacy', 'reveal', 'confirm', 'seal']),
    header: z.string().optional(),
    confirmPositions: z.array(z.number()).optional(),
    /** The script allows printing a share card during the reveal (`with: { shareCards: true }`). */
    shareCards: z.boolean().optional(),
    /** The custodian's share is sealed to their OpenPGP key (see SealedHandout in src/core/ceremony/types.ts). */
    sealed: z
      .object({
        recipientFingerprint: z.string(),
        fingerprintGroups: z.string(),
        defaultDir: z.string(),
        file: z.object({ name: z.string(), path: z.string(), dir: z.string(), sha256: z.string() }).optional(),
      })
      .optional(),
  }),
  /**
   * Check-in: an enrolled custodian confirms their OpenPGP key's fingerprint (read aloud from the
   * words, compared on their own device) by typing its last `tailLength` hex digits, or rejects it.
   * See OpenPgpConfirmNeed in src/core/ceremony/types.ts.
   */
  z.object({
    kind: z.literal('openpgpConfirm'),
    custodian: Participant,
    fingerprint: z.string(),
    fingerprintGroups: z.string(),
    fingerprintWords: z.array(z.string()),
    userIds: z.array(z.string()),
    algorithm: z.string(),
    expires: z.string().nullable(),
    tailLength: z.number(),
    remaining: z.number(),
  }),
  z.object({ kind: z.literal('shareEntry'), accepted: z.array(z.object({ index: z.number(), custodian: z.string() })), needed: z.number(), threshold: z.number(), splitId: z.string() }),
  z.object({ kind: z.literal('statement'), fields: z.array(StatementField) }),
  z.object({
    kind: z.literal('continue'),
    message: z.string(),
    /** A key made or destroyed in the HSM: the UI asks for the token label (and key id) to be typed. */
    irreversible: z.object({ act: z.enum(['generate', 'destroy']), tokenLabel: z.string(), keyId: z.string().optional(), keyType: z.string().optional() }).optional(),
  }),
  z.object({ kind: z.literal('done') }),
]);

/** What the UI sends to a step. `pin`, `words` and `text` are secret: used by the core, then dropped. */
export const StepInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('participants'), participants: z.array(ParticipantInput).min(1).max(64) }),
  z.strictObject({ kind: z.literal('preflightOverride'), reason: z.string().trim().min(1, 'Type the reason for the override.').max(2000), personId: id }),
  z.strictObject({ kind: z.literal('pin'), pin: z.string().min(1, 'Enter the PIN.').max(256) }),
  z.strictObject({
    kind: z.literal('signoff'),
    personId: id,
    role: z.string().min(1).max(64).optional(),
    method: z.enum(['typed-name', 'typed-initials', 'answers-file']).optional(),
    typed: z.string().max(200).optional(),
  }),
  z.strictObject({ kind: z.literal('shareAck') }),
  z.strictObject({ kind: z.literal('shareReshow') }),
  z.strictObject({ kind: z.literal('shareConfirm'), words: z.array(z.string().max(64)).min(1).max(64) }),
  /** Sealed hand-out: encrypt the share to the custodian's key and write it into `dir` (default: the need's defaultDir). */
  z.strictObject({ kind: z.literal('shareSeal'), dir: path.optional() }),
  /** Sealed hand-out: the custodian cannot decrypt the file; the split is made afresh (recorded). */
  z.strictObject({ kind: z.literal('shareCannotDecrypt') }),
  /** Check-in: the last tailLength hex digits of the fingerprint, as the custodian's own device shows them. */
  z.strictObject({ kind: z.literal('openpgpConfirm'), typed: z.string().max(200) }),
  /** Check-in: "this is not my key"; the custodian gets words on screen instead. */
  z.strictObject({ kind: z.literal('openpgpReject') }),
  z.strictObject({ kind: z.literal('share'), text: z.string().min(1, 'Enter the share words.').max(4000) }),
  z.strictObject({ kind: z.literal('statement'), values: z.record(z.string().max(64), z.string().max(2000)) }),
  z.strictObject({ kind: z.literal('continue') }),
]);

const ErrorView = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });

export const CeremonyViewSchema = z.object({
  ceremonyId: z.string(),
  scriptId: z.string(),
  title: z.string(),
  status: z.enum(['running', 'sealed', 'aborted']),
  demo: z.boolean(),
  outDir: z.string(),
  participants: z.array(Participant),
  steps: z.array(StepSummary),
  current: z
    .object({
      index: z.number(),
      id: z.string(),
      title: z.string(),
      say: z.string(),
      action: ActionName.nullable(),
      confirm: z.record(z.string(), z.number()),
      need: Need,
      evidence: z.record(z.string(), z.unknown()).nullable(),
    })
    .nullable(),
  revealedShare: z.object({ custodian: z.string(), header: z.string(), words: z.array(z.string()) }).optional(),
  chainHead: z.object({ seq: z.number(), hash: z.string() }),
  lastError: ErrorView.nullable(),
  sealed: z.object({ finalHash: z.string(), finalHashWords: z.array(z.string()), keyFingerprintWords: z.array(z.string()), bundle: z.string() }).optional(),
});

/**
 * What the witness window gets: the same ceremony minus everything private. It never carries a
 * share, a PIN prompt's details beyond who must enter it, or the share-entry progress detail.
 */
export const WitnessViewSchema = z.object({
  ceremonyId: z.string(),
  title: z.string(),
  status: z.enum(['running', 'sealed', 'aborted']),
  demo: z.boolean(),
  steps: z.array(StepSummary),
  current: z
    .object({
      index: z.number(),
      title: z.string(),
      say: z.string(),
      needKind: z.string(),
      signed: z.array(Signer),
      remaining: z.record(z.string(), z.number()),
      /** Who is up in a share hand-out (a name, never the share), for the room to know who may look. */
      custodian: z
        .object({
          name: z.string(),
          shareIndex: z.number(),
          of: z.number(),
          phase: z.string(),
          /** The share is sealed to the custodian's OpenPGP key: never on screen, nobody looks away. */
          sealed: z.boolean().optional(),
        })
        .nullable(),
    })
    .nullable(),
  /** Key fingerprints in the current step's evidence, as hex and as PGP words for reading aloud. */
  fingerprints: z.array(z.object({ label: z.string(), value: z.string(), words: z.array(z.string()) })),
  chainHead: z.object({ seq: z.number(), hash: z.string() }),
  sealed: z.object({ finalHash: z.string(), finalHashWords: z.array(z.string()), keyFingerprintWords: z.array(z.string()) }).optional(),
});

const CeremonySummary = z.object({
  id: z.string(),
  scriptId: z.string(),
  title: z.string(),
  status: z.enum(['running', 'sealed', 'aborted']),
  currentStep: z.number(),
  stepCount: z.number(),
  currentStepTitle: z.string().nullable(),
  outDir: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const ParamValue = z.union([z.string().max(200), z.number(), z.boolean()]);
/** Parameters as the renderer may send them: short names, short plain values (the core checks the rest). */
const ParameterValues = z.record(z.string().regex(/^[a-z][a-zA-Z0-9]{0,63}$/, 'A parameter name is camelCase letters and digits.'), ParamValue);
const FieldProblem = z.object({ code: z.string(), message: z.string() });
const ParameterField = z.object({
  name: z.string(),
  type: z.enum(['keyType', 'integer', 'string', 'boolean', 'subject', 'keyId', 'tokenLabel', 'file']),
  description: z.string(),
  required: z.boolean(),
  optional: z.boolean(),
  value: z.union([z.string(), z.number(), z.boolean()]).nullable(),
  source: z.enum(['given', 'default', 'demo', 'none']),
  min: z.number().optional(),
  max: z.number().optional(),
  limits: z.string().optional(),
  options: z.array(z.string()).optional(),
  purpose: z.string().optional(),
  rdns: z.array(z.array(z.object({ type: z.string(), value: z.string() }))).nullable().optional(),
  problems: z.array(FieldProblem),
});
const ParameterForm = z.object({
  fields: z.array(ParameterField),
  profiles: z.array(z.object({ step: z.string(), profile: z.string(), purpose: z.string().nullable(), summary: z.string().nullable() })),
  values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  warnings: z.array(z.string()),
  problems: z.array(FieldProblem),
  ok: z.boolean(),
});
const ScriptSummary = z.object({ id: z.string(), title: z.string(), version: z.string(), description: z.string(), file: z.string(), sha256: z.string() });

const TranscriptEvent = z.object({ seq: z.number(), type: z.string(), at: z.string().nullable(), hash: z.string(), summary: z.string() });

// ---------------------------------------------------------------------------------------------
// The table

export const contract = {
  'app:info': { input: noInput, output: AppInfo },
  'app:openWitness': { input: noInput, output: z.object({ opened: z.boolean() }) },
  'hsm:info': { input: noInput, output: HsmInfo },
  'settings:get': { input: noInput, output: Settings },
  'settings:set': { input: SettingsPatch, output: Settings },
  /** Main-process file dialog for the PKCS#11 module; only picked files (or known locations) can be saved. */
  'settings:pickModule': { input: noInput, output: z.object({ path: z.string().nullable() }) },
  /** Load a module in a child process and list its tokens, without saving anything. */
  'settings:testModule': {
    input: z.strictObject({ modulePath: z.string().min(1, 'Enter the path of the PKCS#11 module.').max(4096) }),
    output: z.object({
      modulePath: z.string(),
      manufacturer: z.string(),
      description: z.string(),
      cryptokiVersion: z.string(),
      libraryVersion: z.string(),
      tokens: z.array(z.object({ label: z.string(), serial: z.string(), model: z.string(), manufacturer: z.string() })),
      tokenError: z.string().optional(),
    }),
  },
  'bundle:verify': { input: z.strictObject({ dir: path }), output: BundleVerification },
  'bundle:print': { input: z.strictObject({ dir: path }), output: z.object({ file: z.string() }) },
  'inventory:list': { input: noInput, output: z.array(InventoryKey) },
  'ceremony:scripts': { input: noInput, output: z.array(ScriptSummary) },
  'ceremony:list': { input: noInput, output: z.array(CeremonySummary) },
  /** Main-process file dialog for a ceremony script file; ceremony:start runs only built-in ids and picked files. */
  'ceremony:pickScript': { input: noInput, output: z.object({ path: z.string().nullable() }) },
  /** Print a built-in ceremony script for before the ceremony (checkbox, time, initials per line). */
  'ceremony:printScript': { input: z.strictObject({ script: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a built-in ceremony id').max(64) }), output: z.object({ scriptId: z.string(), version: z.string(), sha256: z.string() }) },
  /** The Parameters page's live check (checkParameters and each step's use of the values); starts nothing. */
  'ceremony:parameters': {
    input: z.strictObject({ script: id, parameters: ParameterValues, demo: z.boolean().optional() }),
    output: ParameterForm,
  },
  'ceremony:start': {
    input: z.strictObject({
      script: id,
      outDir: path.optional(),
      parameters: ParameterValues.optional(),
      demo: z.boolean().optional(),
      backupFile: path.optional(),
    }),
    output: CeremonyViewSchema,
  },
  'ceremony:view': { input: z.strictObject({ id }), output: CeremonyViewSchema },
  'ceremony:provide': { input: z.strictObject({ id, input: StepInputSchema }), output: CeremonyViewSchema },
  'ceremony:abort': {
    input: z.strictObject({ id, reason: z.string().trim().min(1, 'Type why the ceremony is aborted.').max(2000), personId: id }),
    output: CeremonyViewSchema,
  },
  'ceremony:events': {
    input: z.strictObject({ id }),
    output: z.object({ chainHead: z.object({ seq: z.number(), hash: z.string() }), events: z.array(TranscriptEvent) }),
  },
  'ceremony:witness': { input: noInput, output: WitnessViewSchema.nullable() },
  /**
   * Print the share on screen (reveal phase only) as a card. The card's words never cross IPC.
   * For a sealed share (phase 'confirm', file written) the card has split id, index and the
   * ciphertext's SHA-256, never words.
   */
  // A card with 33 numbered, empty boxes (3 columns of 11) to write a share on: no secret, printable before the ceremony.
  'share:printBlankCard': { input: noInput, output: z.object({ boxes: z.number() }) },
  'share:printCard': { input: z.strictObject({ id }), output: z.object({ index: z.number(), custodian: z.string() }) },
  /**
   * Main-process dialog for a custodian's armored OpenPGP public key file (≤ 64 KB). Returns its
   * text for the participants input (public, not secret); a private key block is refused
   * (OPENPGP_KEY_PRIVATE) and never crosses IPC. `path: null` when cancelled.
   */
  'openpgp:readKeyFile': { input: noInput, output: z.object({ path: z.string().nullable(), armored: z.string().nullable() }) },
  /** Main-process directory dialog for where a sealed share file is written (the `shareSeal` dir). */
  'share:pickSealDir': { input: noInput, output: z.object({ path: z.string().nullable() }) },
  /**
   * Recovery from a decrypted sealed-share file: main shows a file dialog, reads the file (≤ 8 KB)
   * and provides its text to the current shareEntry as `{ kind: 'share', text }` — the share text
   * never crosses IPC. `picked: false` when cancelled; problems appear as `view.lastError`.
   */
  'ceremony:provideShareFile': { input: z.strictObject({ id }), output: z.object({ picked: z.boolean(), view: CeremonyViewSchema }) },
} as const satisfies { [C in Channel]: { input: z.ZodType; output: z.ZodType } };

export type Contract = typeof contract;
export { CHANNELS, type Channel };

/** Channels the witness window may call: nothing that can change a ceremony or reveal a secret. */
export const WITNESS_CHANNELS: readonly Channel[] = ['app:info', 'ceremony:witness'];

export type ChannelInput<C extends Channel> = z.input<Contract[C]['input']>;
export type ChannelOutput<C extends Channel> = z.output<Contract[C]['output']>;

type Domain = Channel extends `${infer D}:${string}` ? D : never;
type Args<C extends Channel> = undefined extends ChannelInput<C> ? [input?: ChannelInput<C>] : [input: ChannelInput<C>];

/** The type of `window.keyrite`: `keyrite.<domain>.<verb>(input)` for every channel. */
export type KeyriteApi = {
  readonly [D in Domain]: {
    readonly [C in Channel as C extends `${D}:${infer V}` ? V : never]: (...args: Args<C>) => Promise<Result<ChannelOutput<C>>>;
  };
};

export type CeremonyViewData = z.output<typeof CeremonyViewSchema>;
export type WitnessViewData = z.output<typeof WitnessViewSchema>;
export type StepInputData = z.input<typeof StepInputSchema>;
export type ParameterFormData = z.output<typeof ParameterForm>;
export type ParameterFieldData = z.output<typeof ParameterField>;
export type NeedData = NonNullable<CeremonyViewData['current']>['need'];
