import { KeyriteError } from '../../errors';
import { parseKeyType } from '../../hsm/key-spec';
import type { HsmSession } from '../../hsm/session';
import type { KeyCustody } from '../../hsm/templates';
import { attributeProblems, findKeyPair, generateKeyPair, readKeyAttributes, selfTest as runSelfTest } from '../../hsm/keygen';
import type { KeyPurpose } from '../../policy';
import { crashPoint } from '../../fault';
import { inventoryKeyType, type KeyStatus } from '../../inventory';
import { adoptTranscriptKey, createTranscriptKey, hsmTranscriptSigner, transcriptKeyLabel } from '../../transcript';
import { userPinNeed, type ActionContext, type ActionHandler, type KeyRef } from '../context';

/** The alias a step's key goes by (`with: { key: old }`), default 'ceremony'. */
export function keyAlias(ctx: ActionContext, name = 'key'): string {
  const v = ctx.step.with?.[name];
  return typeof v === 'string' ? v : 'ceremony';
}

export function keyRef(ctx: ActionContext, alias = keyAlias(ctx)): KeyRef {
  const ref = ctx.state.keys[alias];
  if (!ref) throw new KeyriteError('CEREMONY_KEY_UNKNOWN', `Step '${ctx.step.title}' needs the ${alias} key, but no earlier step provided it. The ceremony script is out of order.`, { details: { alias } });
  return ref;
}

/**
 * Log in with the crypto officer's PIN, then make sure the ceremony's transcript key exists
 * (created here on first login; found again by label on resume, never created twice).
 */
export const hsmLogin: ActionHandler = {
  requiresLogin: false,
  need: (ctx) => userPinNeed(ctx.state.tokenLabel, ctx.demo),
  async provide(ctx, input) {
    if (input.kind !== 'pin') return 'pending';
    const conn = ctx.connection();
    conn.session.login(input.pin, 'user');
    const token = conn.session.token;
    ctx.emit('HSM_LOGIN', { tokenLabel: token.label, tokenSerial: token.serial, manufacturer: token.manufacturer, model: token.model, user: 'user' });
    await ensureTranscriptKey(ctx);
    ctx.state.evidence = { token: `${token.label} (serial ${token.serial})`, transcriptKey: ctx.state.transcriptKey?.spkiSha256 };
    return 'done';
  },
};

/**
 * The ceremony's transcript key, made once. It is announced (its label committed in the state)
 * before it is made, so after a crash a key found under that label is known to be this ceremony's
 * own and is adopted if it is exactly right (adoptTranscriptKey); a key found under the label
 * without an announcement is someone else's, and refused.
 */
export async function ensureTranscriptKey(ctx: ActionContext): Promise<void> {
  const session = ctx.session();
  const label = transcriptKeyLabel(ctx.ceremonyId);
  const recorded = ctx.state.transcriptKey;
  if (recorded) {
    if (session.find({ label }).length === 0) {
      throw new KeyriteError('CEREMONY_TRANSCRIPT_KEY_MISSING', `The transcript key '${label}' this ceremony created is no longer on token '${session.token.label}'. The transcript cannot be sealed; check that the right token is inserted.`);
    }
    if (hsmTranscriptSigner(session, ctx.ceremonyId).spkiSha256 !== recorded.spkiSha256) {
      throw new KeyriteError('CEREMONY_TRANSCRIPT_KEY_CHANGED', `The transcript key '${label}' on the token is not the one this ceremony recorded. Stop and investigate: the token may have been tampered with.`);
    }
    return;
  }
  let key = null;
  let reconciled = false;
  if (ctx.state.transcriptKeyAnnounced === label) {
    key = adoptTranscriptKey(session, ctx.ceremonyId);
    reconciled = key !== null;
  } else {
    ctx.state.transcriptKeyAnnounced = label;
    await ctx.checkpoint();
    crashPoint('transcript-key:announced');
  }
  // createTranscriptKey refuses (TRANSCRIPT_KEY_EXISTS) a label that is taken without an announcement.
  key ??= createTranscriptKey(session, ctx.ceremonyId);
  crashPoint('transcript-key:created');
  ctx.state.transcriptKey = { label: key.label, spkiSha256: key.spkiSha256 };
  ctx.emit('TRANSCRIPT_KEY_CREATED', { label: key.label, spkiSha256: key.spkiSha256, spkiPem: key.spkiPem, tokenLabel: session.token.label, tokenSerial: session.token.serial, purpose: 'transcript-signing', usage: ['sign'], ...(reconciled ? { reconciled: true } : {}) });
  await ctx.checkpoint();
}

/**
 * The custody of the key a generateKey step makes: never extractable when the script says
 * `wrappable: false`; otherwise wrap-with-trusted (the security officer's KEK only), unless the
 * ceremony explicitly chose trustedKek=false, which the key policy must permit (checked with the
 * parameters, recorded in CEREMONY_STARTED and in KEY_GENERATED).
 */
export function ceremonyKeyCustody(ctx: ActionContext): KeyCustody {
  if (ctx.step.with?.wrappable === false) return 'non-extractable';
  return ctx.params.trustedKek === false ? 'wrap-untrusted' : 'wrap-with-trusted';
}

/**
 * Generate the ceremony key. The key id is allocated and saved first; the key's label is its id,
 * so after a crash the runner finds the key it already made instead of making a second one.
 */
export const generateKey: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: (ctx) => `Generate the ${String(ctx.params[String(ctx.step.with?.typeParam ?? 'keyType')] ?? '')} key inside the HSM.`,
  irreversible: (ctx) => ({ act: 'generate', tokenLabel: ctx.state.tokenLabel, keyType: String(ctx.params[String(ctx.step.with?.typeParam ?? 'keyType')] ?? '') }),
  async run(ctx) {
    const alias = keyAlias(ctx);
    const typeParam = String(ctx.step.with?.typeParam ?? 'keyType');
    const type = String(ctx.params[typeParam]);
    const spec = parseKeyType(type);
    const purpose = String(ctx.step.with?.purpose ?? ctx.script.parameters[typeParam]?.purpose ?? 'root-signing') as KeyPurpose;
    const custody = ceremonyKeyCustody(ctx);
    const session = ctx.session();
    let keyId = ctx.state.actionState.keyId as string | undefined;
    if (!keyId) {
      // Claimed in the store, not just computed: another ceremony generating at the same moment gets the next number.
      keyId = await ctx.deps.inventory.claimKeyId(spec.type, ctx.now().getUTCFullYear(), { ceremonyId: ctx.ceremonyId, stepId: ctx.step.id, at: ctx.now() });
      // The label must be free now; then a key found under it after a crash can only be ours.
      if (session.find({ label: keyId }).length > 0) {
        throw new KeyriteError('CEREMONY_KEY_CONFLICT', `Token '${session.token.label}' already holds a key labelled '${keyId}' that the inventory does not know. Run \`keyrite inventory check\` and resolve the difference before generating a key.`, { details: { keyId } });
      }
      ctx.state.actionState.keyId = keyId;
      await ctx.checkpoint();
    }
    let reconciled = false;
    let pair;
    let attributes;
    clearHalfKeyPair(session, keyId);
    if (session.find({ class: 'private', label: keyId }).length > 0) {
      // A key with this id exists: made by this step before an interruption. Adopt it only if it
      // is exactly what this step would have made.
      pair = findKeyPair(session, keyId);
      attributes = readKeyAttributes(session, pair.privateKey, pair.publicKey);
      const problems = attributeProblems(attributes, { custody, reportsLocal: session.module.profile.reportsLocal });
      if (problems.length > 0 || pair.publicInfo.algorithm !== spec.algorithm || pair.publicInfo.bits !== spec.bits) {
        throw new KeyriteError('CEREMONY_KEY_CONFLICT', `Token '${session.token.label}' already holds a key labelled '${keyId}' that this ceremony cannot adopt (${problems.join('; ') || 'different type'}). Investigate before continuing.`, { details: { keyId } });
      }
      reconciled = true;
    } else {
      const generated = generateKeyPair(session, { spec, label: keyId, custody });
      crashPoint('key:generated');
      pair = generated;
      attributes = generated.attributes;
    }
    const ref: KeyRef = { keyId, label: keyId, type: spec.type, spkiSha256: pair.publicInfo.fingerprint, purpose, tokenLabel: session.token.label, custody };
    ctx.state.keys[alias] = ref;
    // The attributes as the token reports them after generation: the record of the key's custody.
    ctx.emit('KEY_GENERATED', { keyId, label: keyId, type: spec.type, purpose, spkiSha256: pair.publicInfo.fingerprint, tokenLabel: session.token.label, tokenSerial: session.token.serial, attributes, custody, wrappable: custody !== 'non-extractable', reconciled });
    ctx.state.evidence = { keyId, type: spec.type, spkiSha256: pair.publicInfo.fingerprint, custody, sensitive: attributes.sensitive, alwaysSensitive: attributes.alwaysSensitive, local: attributes.local, extractable: attributes.extractable, wrapWithTrusted: attributes.wrapWithTrusted };
    const existing = await ctx.deps.inventory.get(keyId);
    if (!existing) {
      const info = pair.publicInfo;
      const now = ctx.now();
      ctx.onCommit((tx) =>
        ctx.deps.inventory.add({
          id: keyId!, label: keyId!, algorithm: info.algorithm, size: info.bits, curve: info.curve ?? null, purpose,
          tokenLabel: session.token.label, tokenSerial: session.token.serial, fingerprint: info.fingerprint,
          createdAt: now, ceremonyId: ctx.ceremonyId, attributes: { extractable: attributes.extractable, sensitive: attributes.sensitive },
        }, tx),
      );
    }
    return 'done';
  },
};

/**
 * A kill inside C_GenerateKeyPair can leave one half of the pair: the token writes its two
 * objects one after the other. The label is the key id this ceremony claimed and committed before
 * generating (and found free then), so one lone half under it is this step's own unfinished
 * generation, useless without the other: destroyed, so the key is generated again. Anything else
 * under the label is left to the adoption check below.
 */
function clearHalfKeyPair(session: HsmSession, keyId: string): void {
  const all = session.find({ label: keyId });
  if (all.length !== 1) return;
  const privates = session.find({ class: 'private', label: keyId }).length;
  const publics = session.find({ class: 'public', label: keyId }).length;
  if (privates + publics === 1) session.destroy(all[0]);
}

export const selfTest: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Run the sign/verify self-test with the new key.',
  async run(ctx) {
    const ref = keyRef(ctx);
    const session = ctx.session();
    const pair = findKeyPair(session, ref.label);
    if (pair.publicInfo.fingerprint !== ref.spkiSha256) {
      throw new KeyriteError('CEREMONY_KEY_CHANGED', `The key labelled '${ref.label}' on the token is not the key this ceremony generated (fingerprints differ). Stop and investigate.`);
    }
    const results = runSelfTest(session, pair);
    for (const r of results) ctx.emit('SELF_TEST_PASSED', { keyId: ref.keyId, ...r });
    ctx.state.evidence = { keyId: ref.keyId, passed: results.map((r) => `${r.mechanism} ${r.hash}`) };
    return 'done';
  },
};

/** The key named by the `keyId` parameter, taken from the inventory into the ceremony's keys. */
export async function inventoryKeyRef(ctx: ActionContext, param: string, alias: string): Promise<KeyRef> {
  if (ctx.state.keys[alias]) return ctx.state.keys[alias];
  const id = String(ctx.params[param] ?? '');
  const key = await ctx.deps.inventory.get(id);
  if (!key) throw new KeyriteError('CEREMONY_KEY_UNKNOWN', `Key '${id}' is not in the inventory. Run \`keyrite inventory\` to see the keys Keyrite knows.`, { details: { keyId: id } });
  const ref: KeyRef = { keyId: key.id, label: key.label, type: inventoryKeyType(key), spkiSha256: key.fingerprint, purpose: key.purpose, tokenLabel: key.tokenLabel };
  ctx.state.keys[alias] = ref;
  return ref;
}

/**
 * Destroy a key identified by fingerprint, after the quorum approved it (signoffFirst in the
 * script), then verify it is gone and update the inventory: to `with.status` (default destroyed),
 * or not at all with `status: unchanged` when the object destroyed is a copy.
 */
export const destroyKey: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  async preview(ctx) {
    const alias = keyAlias(ctx);
    const ref = ctx.state.keys[alias] ?? (await inventoryKeyRef(ctx, String(ctx.step.with?.param ?? 'keyId'), alias).catch(() => undefined));
    return ref ? { keyId: ref.keyId, label: ref.label, spkiSha256: ref.spkiSha256, type: ref.type } : null;
  },
  continueMessage: (ctx) => `Destroy key ${ctx.state.keys[keyAlias(ctx)]?.keyId ?? ''} on token '${ctx.state.keys[keyAlias(ctx)]?.tokenLabel ?? ctx.state.tokenLabel}'. This cannot be undone.`,
  async irreversible(ctx) {
    const alias = keyAlias(ctx);
    const ref = ctx.state.keys[alias] ?? (await inventoryKeyRef(ctx, String(ctx.step.with?.param ?? 'keyId'), alias).catch(() => undefined));
    return { act: 'destroy', tokenLabel: ref?.tokenLabel ?? ctx.state.tokenLabel, keyId: ref?.keyId, keyType: ref?.type };
  },
  async run(ctx) {
    const alias = keyAlias(ctx);
    const ref = ctx.state.keys[alias] ?? (await inventoryKeyRef(ctx, String(ctx.step.with?.param ?? 'keyId'), alias));
    const session = ctx.session();
    const objects = session.find({ label: ref.label });
    if (objects.length > 0) {
      const pair = findKeyPair(session, ref.label);
      if (pair.publicInfo.fingerprint !== ref.spkiSha256) {
        throw new KeyriteError('CEREMONY_KEY_CHANGED', `The key labelled '${ref.label}' has fingerprint ${pair.publicInfo.fingerprint}, not the ${ref.spkiSha256} the quorum approved. Nothing was destroyed.`);
      }
      for (const h of objects) session.destroy(h);
      ctx.emit('KEY_DESTROYED', { keyId: ref.keyId, label: ref.label, spkiSha256: ref.spkiSha256, objects: objects.length, tokenLabel: session.token.label, tokenSerial: session.token.serial });
    } else {
      ctx.emit('KEY_DESTROYED', { keyId: ref.keyId, label: ref.label, spkiSha256: ref.spkiSha256, objects: 0, alreadyAbsent: true, tokenLabel: session.token.label });
    }
    const left = session.find({ label: ref.label });
    if (left.length > 0) throw new KeyriteError('CEREMONY_KEY_STILL_PRESENT', `After destruction, ${left.length} object(s) labelled '${ref.label}' are still on the token. Do not sign off; investigate the HSM.`);
    ctx.emit('KEY_ABSENCE_VERIFIED', { keyId: ref.keyId, label: ref.label, tokenLabel: session.token.label, searchedBy: 'label' });
    const to = String(ctx.step.with?.status ?? 'destroyed');
    // 'unchanged': what was destroyed is a copy (a drill's restored key); the inventoried key lives on as it was.
    if (to !== 'unchanged') await setStatus(ctx, ref.keyId, to as KeyStatus, `destroyed in ceremony ${ctx.ceremonyId}`);
    ctx.state.evidence = { keyId: ref.keyId, destroyed: true, absenceVerified: true };
    return 'done';
  },
};

async function setStatus(ctx: ActionContext, keyId: string, to: KeyStatus, reason: string): Promise<void> {
  const key = await ctx.deps.inventory.get(keyId);
  if (!key) return;
  if (key.status === to) return;
  const reasonParam = typeof ctx.params.reason === 'string' ? ctx.params.reason : undefined;
  ctx.emit('KEY_STATUS_CHANGED', { keyId, from: key.status, to, reason: reasonParam ?? reason });
  ctx.onCommit(async (tx) => {
    // A compromise is recorded as such first, so the history says why the key was destroyed.
    if (reasonParam === 'compromised' && key.status !== 'compromised' && to === 'destroyed') {
      await ctx.deps.inventory.setStatus(keyId, 'compromised', ctx.ceremonyId, 'compromise reported', tx);
    }
    await ctx.deps.inventory.setStatus(keyId, to, ctx.ceremonyId, reasonParam ?? reason, tx);
  });
}

/** Move a key along its lifecycle (e.g. the old key to retiring in a rotation). */
export const updateKeyStatus: ActionHandler = {
  requiresLogin: false,
  need: () => null,
  continueMessage: (ctx) => `Mark the ${keyAlias(ctx)} key as ${String(ctx.step.with?.status ?? '')} in the inventory.`,
  async run(ctx) {
    const alias = keyAlias(ctx);
    const ref = ctx.state.keys[alias] ?? (await inventoryKeyRef(ctx, String(ctx.step.with?.param ?? 'keyId'), alias));
    const to = String(ctx.step.with?.status ?? '') as KeyStatus;
    await setStatus(ctx, ref.keyId, to, `${ctx.script.id} ceremony ${ctx.ceremonyId}`);
    ctx.state.evidence = { keyId: ref.keyId, status: to };
    return 'done';
  },
};
