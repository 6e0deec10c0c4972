import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  backupFilePath, checkShareAgainstBackup, createBackup as makeBackup, decodeShare, readBackupFile, renderShareCardHtml, resplitBackup, restoreBackup as restore,
  type BackupFile, type BackupResult, type DecodedShare,
} from '../../backup';
import { KeyriteError } from '../../errors';
import { findKeyPair, selfTestAlgorithms } from '../../hsm/keygen';
import { signData, verifyWithPublicKey } from '../../hsm/sign';
import type { ActionContext, ActionHandler, KeyRef } from '../context';
import type { ShareCard } from '../types';
import { keyRef } from './keys';

const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function custodians(ctx: ActionContext): string[] {
  return ctx.state.participants.filter((p) => p.roles.includes('custodian')).map((p) => p.name);
}

function recordBackup(ctx: ActionContext, result: BackupResult, key: KeyRef, extra: Record<string, unknown>): void {
  const b = result.backup;
  ctx.secrets.issued = result.shares.map((s) => ({ index: s.index, custodian: s.custodian, header: s.header, words: s.words }));
  ctx.state.backup = { file: result.file, keyId: key.keyId, splitId: b.split.id, threshold: b.split.threshold, count: b.split.count, custodians: b.split.shares.map((s) => s.custodian), kcv: result.kcv };
  ctx.state.handedOut = [];
  ctx.state.actionState.handout = undefined;
  const rel = path.relative(ctx.outDir, result.file);
  ctx.emit('BACKUP_WRITTEN', {
    keyId: key.keyId, file: rel, sha256: sha256File(result.file), wrapMechanism: b.wrapMechanism, wrapFormat: b.wrapFormat ?? null, pkcs8Length: b.pkcs8Length ?? null, wrapTrust: result.wrapTrust,
    kcv: result.kcv, kcvMethod: result.kcvMethod, splitId: b.split.id, threshold: b.split.threshold, count: b.split.count,
    custodians: b.split.shares.map((s) => ({ index: s.index, custodian: s.custodian })), ...extra,
  });
  ctx.emit('BACKUP_VERIFIED', { keyId: key.keyId, splitId: b.split.id, ...result.immediateCheck });
  ctx.state.artifacts[rel] = { path: rel, sha256: sha256File(result.file) };
  ctx.state.evidence = { backup: rel, splitId: b.split.id, threshold: b.split.threshold, count: b.split.count, kcv: result.kcv, immediateCheck: result.immediateCheck.fingerprintMatches && result.immediateCheck.signatureVerified ? 'passed' : 'FAILED' };
  ctx.onCommit((tx) => ctx.deps.inventory.addBackup(key.keyId, { file: rel, splitId: b.split.id, threshold: b.split.threshold, count: b.split.count, custodians: b.split.shares.map((s) => s.custodian), ceremonyId: ctx.ceremonyId, createdAt: b.createdAt }, tx));
  resetDrillFile(ctx);
}

/**
 * A backup whose shares were lost (Keyrite stopped before every custodian had one) is useless:
 * its KEK exists nowhere. It is removed, recorded as superseded, and made again with a new split.
 */
function discardStaleBackup(ctx: ActionContext): string | null {
  const key = keyRef(ctx);
  const file = backupFilePath(ctx.outDir, key.keyId);
  if (!existsSync(file)) return null;
  // Only a backup this ceremony wrote (recorded, or cut off before it could be recorded) is removed.
  const stale = readBackupFile(file);
  if (stale.ceremonyId !== ctx.ceremonyId || stale.keyId !== key.keyId) {
    throw new KeyriteError('CEREMONY_ARTIFACT_EXISTS', `'${file}' belongs to another ceremony (${stale.ceremonyId}). Keyrite does not overwrite it; move it away and retry.`, { details: { file } });
  }
  rmSync(file);
  delete ctx.state.artifacts[path.relative(ctx.outDir, file)];
  return stale.split.id;
}

async function backupWithPins(ctx: ActionContext, key: KeyRef): Promise<BackupResult> {
  const trusted = ctx.params.trustedKek === true;
  const pins = ctx.secrets.backupPins;
  try {
    return await makeBackup(ctx.session(), {
      keyLabel: key.label, keyId: key.keyId, threshold: Number(ctx.params.threshold), count: Number(ctx.params.count),
      custodians: custodians(ctx), ceremonyId: ctx.ceremonyId, outDir: ctx.outDir, trustedKek: trusted, now: ctx.now(),
      pins: trusted && pins?.so && pins.user ? { so: pins.so, user: pins.user } : undefined,
    });
  } finally {
    ctx.secrets.backupPins = undefined;
  }
}

/** With a trusted KEK the security officer creates the KEK: ask for the SO PIN, then the user PIN to log back in. */
function trustedPinNeed(ctx: ActionContext) {
  if (ctx.params.trustedKek !== true) return null;
  const pins = ctx.secrets.backupPins ?? {};
  if (!pins.so) return { kind: 'pin' as const, user: 'so' as const, tokenLabel: ctx.state.tokenLabel, role: 'officer', message: `The security officer enters the SO PIN of token '${ctx.state.tokenLabel}' to create a trusted KEK.` };
  if (!pins.user) return { kind: 'pin' as const, user: 'user' as const, tokenLabel: ctx.state.tokenLabel, role: 'officer', message: `A crypto officer enters the user PIN again: Keyrite logs back in after the SO has made the KEK.` };
  return null;
}

export const createBackup: ActionHandler = {
  requiresLogin: true,
  need: (ctx) => trustedPinNeed(ctx),
  continueMessage: (ctx) => `Make the KEK, wrap the key and split the KEK ${String(ctx.params.threshold)}-of-${String(ctx.params.count)}.`,
  async provide(ctx, input) {
    if (input.kind !== 'pin') return 'pending';
    const need = trustedPinNeed(ctx);
    if (need) ctx.secrets.backupPins = { ...(ctx.secrets.backupPins ?? {}), [need.user]: input.pin };
    return 'pending';
  },
  async run(ctx) {
    const key = keyRef(ctx);
    const superseded = discardStaleBackup(ctx);
    const result = await backupWithPins(ctx, key);
    recordBackup(ctx, result, key, superseded ? { supersedes: superseded } : {});
    return 'done';
  },
};

/** Where drill shares go, when the operator explicitly asked for a drill printout. */
function drillFile(ctx: ActionContext): string | null {
  const f = ctx.params.drillSharesFile;
  return typeof f === 'string' && f ? f : null;
}

function resetDrillFile(ctx: ActionContext): void {
  const f = drillFile(ctx);
  if (f && existsSync(f)) writeFileSync(f, '', { mode: 0o600 });
}

interface HandoutState {
  current: number;
  phase: 'privacy' | 'reveal' | 'confirm';
  positions?: number[];
}

/**
 * One custodian at a time: others look away, the share is shown, the custodian writes it down
 * and re-enters a random subset of its words. Only then does the next custodian come up.
 */
export const handOutShares: ActionHandler = {
  requiresLogin: true,
  need(ctx) {
    const backup = ctx.state.backup;
    if (!backup) throw new KeyriteError('CEREMONY_SCRIPT_ORDER', 'There is no backup to hand out; the script must make one first.');
    if (!ctx.secrets.issued) {
      const pinNeed = trustedPinNeed(ctx);
      if (pinNeed) return pinNeed;
      return {
        kind: 'continue',
        message: `Keyrite stopped while shares of split ${backup.splitId} were being handed out. Shares are never stored, so that backup is void and any shares already handed out must be destroyed. Continue to make a new backup with a new split.`,
      };
    }
    const h = handout(ctx);
    const share = ctx.secrets.issued.find((s) => s.index === h.current)!;
    const custodian = ctx.state.participants.find((p) => p.name === share.custodian) ?? { id: share.custodian, name: share.custodian, roles: ['custodian'] };
    return {
      kind: 'shareHandout', custodian, shareIndex: share.index, of: backup.count, phase: h.phase,
      header: h.phase === 'privacy' ? undefined : share.header,
      confirmPositions: h.phase === 'confirm' ? h.positions : undefined,
      shareCards: shareCardsAllowed(ctx),
    };
  },
  async run(ctx) {
    // 'continue' after a restart: remake the backup (the old split's KEK is gone).
    const key = keyRef(ctx);
    const superseded = discardStaleBackup(ctx);
    const result = await backupWithPins(ctx, key);
    recordBackup(ctx, result, key, { supersedes: superseded, reason: 'shares lost when Keyrite stopped during hand-out' });
    return 'pending';
  },
  async provide(ctx, input) {
    const issued = ctx.secrets.issued;
    if (!issued) {
      const need = trustedPinNeed(ctx);
      if (need && input.kind === 'pin') ctx.secrets.backupPins = { ...(ctx.secrets.backupPins ?? {}), [need.user]: input.pin };
      return 'pending';
    }
    const h = handout(ctx);
    const share = issued.find((s) => s.index === h.current)!;
    if (input.kind === 'shareAck') {
      if (h.phase === 'privacy') {
        h.phase = 'reveal';
        ctx.emit('SHARE_ISSUED', { index: share.index, custodian: share.custodian, header: share.header, splitId: ctx.state.backup!.splitId });
        const f = drillFile(ctx);
        if (f) {
          if (!ctx.state.actionState.drillExported) {
            ctx.state.actionState.drillExported = true;
            ctx.emit('DRILL_SHARES_EXPORTED', { file: path.resolve(f), splitId: ctx.state.backup!.splitId, note: 'shares written to a file at the operator\'s explicit request (drill only)' });
          }
          appendFileSync(f, `# ${share.header} · ${share.custodian}\n${share.words.join(' ')}\n`, { mode: 0o600 });
        }
      } else {
        // Written down: ask for a random subset of the words back.
        h.phase = 'confirm';
        h.positions = pickPositions(share.words.length, Number(ctx.step.with?.confirmWords ?? 4));
      }
      ctx.state.actionState.handout = { current: h.current, phase: h.phase, positions: h.positions };
      return 'pending';
    }
    if (input.kind !== 'shareConfirm' || h.phase !== 'confirm') throw new KeyriteError('CEREMONY_INPUT_UNEXPECTED', 'The custodian must first see and write down the share.');
    const positions = h.positions ?? [];
    if (input.words.length !== positions.length) {
      throw new KeyriteError('SHARE_CONFIRM_MISMATCH', `Enter ${positions.length} words (words ${positions.map((p) => p + 1).join(', ')} of the share).`);
    }
    const wrong = positions.filter((p, i) => share.words[p] !== String(input.words[i]).trim().toLowerCase());
    if (wrong.length > 0) {
      throw new KeyriteError('SHARE_CONFIRM_MISMATCH', `Word ${wrong.map((p) => p + 1).join(' and ')} does not match what is on the screen. Check the written share and enter the words again.`, { details: { positions: wrong.map((p) => p + 1) } });
    }
    ctx.emit('SHARE_CONFIRMED', { index: share.index, custodian: share.custodian, wordsChecked: positions.map((p) => p + 1) }, ctx.state.participants.find((p) => p.name === share.custodian)?.id ?? null);
    ctx.state.handedOut.push(share.index);
    const next = issued.find((s) => !ctx.state.handedOut.includes(s.index));
    if (!next) {
      ctx.state.actionState.handout = undefined;
      ctx.state.evidence = { ...(ctx.state.evidence ?? {}), sharesHandedOut: ctx.state.handedOut.length };
      // The shares leave Keyrite's memory as soon as the last custodian confirmed theirs.
      for (const s of issued) s.words.fill('');
      ctx.secrets.issued = issued;
      return 'done';
    }
    ctx.state.actionState.handout = { current: next.index, phase: 'privacy' };
    return 'pending';
  },
};

/** Printed cards are opt-in per hand-out step: some rooms forbid printers near a share. */
function shareCardsAllowed(ctx: ActionContext): boolean {
  return ctx.step.with?.shareCards === true;
}

/**
 * The card for the share on screen, rendered in memory and recorded (without its words) as
 * SHARE_CARD_PRINTED. Only while the share is revealed: before, the room has not looked away;
 * after, the words are gone from the screen and must not come back on paper.
 */
export async function shareCardForReveal(ctx: ActionContext, phase: string | null): Promise<ShareCard> {
  if (ctx.step.action !== 'handOutShares') {
    throw new KeyriteError('SHARE_CARD_UNAVAILABLE', `A share card can be printed only while a share is shown during a share hand-out step; the current step is '${ctx.step.title}'.`, { details: { step: ctx.step.id } });
  }
  if (!shareCardsAllowed(ctx)) {
    throw new KeyriteError('SHARE_CARD_NOT_ALLOWED', `The script does not allow printed share cards in step '${ctx.step.title}'. The custodian writes the share down by hand.`, { details: { step: ctx.step.id } });
  }
  const issued = ctx.secrets.issued;
  const share = issued && phase === 'reveal' ? issued.find((s) => s.index === handout(ctx).current) : undefined;
  if (!share || share.words.every((w) => !w)) {
    throw new KeyriteError('SHARE_CARD_UNAVAILABLE', 'A share card can be printed only while the share is shown on screen, after the others have looked away and before it is hidden. Show the share first.', { details: { step: ctx.step.id, phase } });
  }
  const html = await renderShareCardHtml(share, { ceremonyTitle: ctx.script.title, keyId: ctx.state.backup!.keyId });
  ctx.emit('SHARE_CARD_PRINTED', { index: share.index, custodian: share.custodian, splitId: ctx.state.backup!.splitId }, ctx.state.participants.find((p) => p.name === share.custodian)?.id ?? null);
  return { html, index: share.index, custodian: share.custodian };
}

function handout(ctx: ActionContext): HandoutState {
  const saved = ctx.state.actionState.handout as HandoutState | undefined;
  if (saved) return { ...saved };
  const first = ctx.secrets.issued!.find((s) => !ctx.state.handedOut.includes(s.index))!;
  return { current: first.index, phase: 'privacy' };
}

function pickPositions(n: number, k: number): number[] {
  if (k >= n || k <= 0) return [...Array(n).keys()];
  const set = new Set<number>();
  while (set.size < k) set.add(randomInt(n));
  return [...set].sort((a, b) => a - b);
}

// ------------------------------------------------------------------ recovery

export function backupForStep(ctx: ActionContext): BackupFile {
  const file = ctx.state.backup?.file ?? (typeof ctx.params.backupFile === 'string' ? path.resolve(ctx.params.backupFile) : null);
  if (!file) throw new KeyriteError('CEREMONY_BACKUP_MISSING', 'This ceremony needs a backup file (--backup FILE).');
  return readBackupFile(file);
}

function collectNeed(ctx: ActionContext, backup: BackupFile) {
  const accepted = (ctx.secrets.collected as DecodedShare[]).map((s) => {
    const c = backup.split.shares.find((x) => x.index === s.index);
    return { index: s.index, custodian: c?.custodian ?? '' };
  });
  return { kind: 'shareEntry' as const, accepted, needed: Math.max(0, backup.split.threshold - accepted.length), threshold: backup.split.threshold, splitId: backup.split.id };
}

/** Each typed share is checked at once against the backup's per-share digest. */
async function acceptShare(ctx: ActionContext, backup: BackupFile, text: string): Promise<'done' | 'pending'> {
  let share: DecodedShare;
  try {
    share = decodeShare(text);
    const { index, custodian } = checkShareAgainstBackup(backup, share);
    if ((ctx.secrets.collected as DecodedShare[]).some((s) => s.index === index)) {
      throw new KeyriteError('SHARE_DUPLICATE', `Share ${index} (${custodian}) was already entered. The next custodian enters theirs.`, { details: { index } });
    }
    ctx.secrets.collected.push(share);
    ctx.state.collected = (ctx.secrets.collected as DecodedShare[]).map((s) => s.index);
    ctx.emit('SHARE_ACCEPTED', { index, custodian, splitId: backup.split.id });
  } catch (e) {
    if (e instanceof KeyriteError) {
      // Evidence of the failed attempt without the words themselves.
      ctx.emit('SHARE_REJECTED', { code: e.code, position: (e.details as { position?: number }).position ?? null, index: (e.details as { index?: number }).index ?? null });
      await ctx.checkpoint();
    }
    throw e;
  }
  return ctx.secrets.collected.length >= backup.split.threshold ? 'done' : 'pending';
}

export const collectShares: ActionHandler = {
  requiresLogin: false,
  need(ctx) {
    const backup = backupForStep(ctx);
    if (ctx.secrets.collected.length >= backup.split.threshold) return null;
    return collectNeed(ctx, backup);
  },
  async provide(ctx, input) {
    if (input.kind !== 'share') return 'pending';
    const backup = backupForStep(ctx);
    const out = await acceptShare(ctx, backup, input.text);
    if (out === 'done') ctx.state.evidence = { sharesAccepted: ctx.state.collected, splitId: backup.split.id };
    return out;
  },
  run: async () => 'done',
};

/**
 * For actions that rebuild the KEK: ask for shares until a threshold is in memory (again after a
 * restart, since shares are never stored), then run on 'continue'.
 */
const collectingFirst: Pick<ActionHandler, 'need' | 'provide'> = {
  need(ctx) {
    const backup = backupForStep(ctx);
    return ctx.secrets.collected.length < backup.split.threshold ? collectNeed(ctx, backup) : null;
  },
  async provide(ctx, input) {
    if (input.kind !== 'share') return 'pending';
    await acceptShare(ctx, backupForStep(ctx), input.text);
    return 'pending';
  },
};

/**
 * Rebuild the KEK from the shares in memory (asking for them again after a restart), check its
 * KCV, unwrap into the target token and prove the restored key is the original one.
 */
export const restoreBackup: ActionHandler = {
  requiresLogin: true,
  ...collectingFirst,
  continueMessage: () => 'Rebuild the KEK, check it and unwrap the key into the token.',
  async run(ctx) {
    const backup = backupForStep(ctx);
    const session = ctx.session();
    const label = backup.keyLabel;
    let spkiSha256: string;
    const backupFile = ctx.state.backup?.file ?? path.resolve(String(ctx.params.backupFile));
    const backupSha256 = sha256File(backupFile);
    if (session.find({ class: 'private', label }).length > 0) {
      // Found already restored (this step ran before an interruption): no KEK is rebuilt now, so none is claimed.
      const pair = findKeyPair(session, label);
      if (pair.publicInfo.fingerprint !== backup.spkiSha256) {
        throw new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds a different key labelled '${label}'. Restore into a fresh token.`, { details: { label } });
      }
      spkiSha256 = pair.publicInfo.fingerprint;
      ctx.emit('KEY_RESTORED', { keyId: backup.keyId, label, spkiSha256, tokenLabel: session.token.label, tokenSerial: session.token.serial, backupFile: path.basename(backupFile), backupSha256, reconciled: true });
    } else {
      const restored = await restore(session, backup, ctx.secrets.collected as DecodedShare[]);
      spkiSha256 = restored.spkiSha256;
      // restore() checked the KCV before unwrapping (assertKcv): only then is the KEK rebuilt and matched.
      ctx.emit('KEK_REBUILT', { splitId: backup.split.id, shares: ctx.state.collected, kcv: backup.kek.kcv, kcvMatched: true });
      const { spkiSha256: _proven, ...proof } = restored.proof;
      ctx.emit('KEY_RESTORED', { keyId: backup.keyId, label, spkiSha256, tokenLabel: session.token.label, tokenSerial: session.token.serial, backupFile: path.basename(backupFile), backupSha256, ...proof });
    }
    ctx.secrets.collected = [];
    ctx.state.collected = [];
    ctx.state.keys.restored = { keyId: backup.keyId, label, type: backup.keyType, spkiSha256, purpose: 'root-signing', tokenLabel: session.token.label };
    ctx.state.evidence = { keyId: backup.keyId, tokenLabel: session.token.label, spkiSha256 };
    return 'done';
  },
};

/** Same key: equal SPKI fingerprints, and a fresh signature by the restored key verifies under the backup's public key. */
export const proveIdentity: ActionHandler = {
  requiresLogin: true,
  need: () => null,
  continueMessage: () => 'Prove that the restored key is the original key.',
  async run(ctx) {
    const backup = backupForStep(ctx);
    const ref = ctx.state.keys.restored ?? keyRef(ctx);
    const session = ctx.session();
    const pair = findKeyPair(session, ref.label);
    const original = createPublicKey({ key: Buffer.from(backup.spkiDer, 'base64'), format: 'der', type: 'spki' });
    const fingerprintMatches = pair.publicInfo.fingerprint === backup.spkiSha256;
    const alg = selfTestAlgorithms(pair.publicInfo)[0];
    const challenge = Buffer.concat([Buffer.from(`keyrite identity proof ${ctx.ceremonyId}\n`), randomBytes(32)]);
    const signed = signData(session, pair.privateKey, alg, challenge);
    const signatureVerified = verifyWithPublicKey(original, alg, challenge, signed.signature);
    ctx.emit('KEY_USED', { keyId: ref.keyId, purpose: 'identity proof', mechanism: signed.mechanism, dataSha256: signed.dataSha256 });
    ctx.emit('IDENTITY_PROVEN', { keyId: ref.keyId, fingerprintMatches, signatureVerified, spkiSha256: pair.publicInfo.fingerprint, originalSpkiSha256: backup.spkiSha256, mechanism: signed.mechanism, challengeSha256: signed.dataSha256 });
    if (!fingerprintMatches || !signatureVerified) {
      throw new KeyriteError('CEREMONY_IDENTITY_MISMATCH', `The restored key is NOT the original key (${!fingerprintMatches ? 'fingerprints differ' : 'its signature does not verify under the original public key'}). Do not sign off; the backup or the token is wrong.`);
    }
    ctx.state.evidence = { keyId: ref.keyId, fingerprintMatches, signatureVerified, spkiSha256: pair.publicInfo.fingerprint };
    return 'done';
  },
};

/** Share rotation: the old quorum's shares rebuild the KEK, which is split anew for new custodians. */
export const resplitShares: ActionHandler = {
  requiresLogin: true,
  ...collectingFirst,
  continueMessage: (ctx) => `Rebuild the KEK and split it ${String(ctx.params.threshold)}-of-${String(ctx.params.count)} for the new custodians.`,
  async run(ctx) {
    const backup = backupForStep(ctx);
    const result = await resplitBackup(ctx.session(), backup, ctx.secrets.collected as DecodedShare[], {
      threshold: Number(ctx.params.threshold), count: Number(ctx.params.count), custodians: custodians(ctx),
      ceremonyId: ctx.ceremonyId, outDir: ctx.outDir, now: ctx.now(),
    });
    ctx.secrets.collected = [];
    ctx.state.collected = [];
    const key: KeyRef = { keyId: backup.keyId, label: backup.keyLabel, type: backup.keyType, spkiSha256: backup.spkiSha256, purpose: 'root-signing', tokenLabel: ctx.state.tokenLabel };
    ctx.state.keys.ceremony = key;
    ctx.emit('SHARES_RESPLIT', { keyId: backup.keyId, oldSplitId: backup.split.id, newSplitId: result.backup.split.id, threshold: result.backup.split.threshold, count: result.backup.split.count });
    recordBackup(ctx, result, key, { resplitFrom: backup.split.id });
    return 'done';
  },
};
