import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  backupFilePath, checkShareAgainstBackup, createBackup as makeBackup, decodeShare, readBackupFile, renderShareCardHtml, resplitBackup, restoreBackup as restore, settleInterruptedRestore,
  type BackupFile, type BackupResult, type DecodedShare,
} from '../../backup';
import { lookupWord, WORDS } from '../../backup/wordlist';
import { KeyriteError, zeroize } from '../../errors';
import { claimRestoreLabel } from '../../store/restore-claims';
import { findKeyPair, selfTestAlgorithms } from '../../hsm/keygen';
import { signData, verifyWithPublicKey } from '../../hsm/sign';
import type { ActionContext, ActionHandler, KeyRef } from '../context';
import { appendDrillShare, startDrillSharesFile } from '../drill-shares';
import type { Need, ShareCard } from '../types';
import { keyAlias, keyRef } from './keys';
import { custodianOf, sealingKeyFor, shownAs } from './openpgp-enrolment';
import { defaultSealDir, removeVoidSealedFiles, renderSealedShareCardHtml, writeSealedShare, type SealedFile } from './sealed-handout';

const sha256File = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function custodians(ctx: ActionContext): string[] {
  return ctx.state.participants.filter((p) => p.roles.includes('custodian')).map((p) => p.name);
}

async function recordBackup(ctx: ActionContext, result: BackupResult, key: KeyRef, given: Record<string, unknown>, resplitOf?: string): Promise<void> {
  const b = result.backup;
  // A new split voids the earlier one: the drill file starts again (created exclusively the first
  // time). First, so that a refusal here changes nothing else (the backup is then remade on retry).
  const drill = drillFile(ctx);
  if (drill) {
    try {
      await startDrillSharesFile(drill, ctx.ceremonyId, ctx.outDir);
    } catch (e) {
      for (const s of result.shares) s.words.fill('');
      throw e;
    }
  }
  ctx.secrets.holdIssued(result.shares);
  // Sealed files of an earlier split of this ceremony are void with it.
  const removedSealed = removeVoidSealedFiles(ctx, b.split.id);
  const extra = removedSealed.length > 0 ? { ...given, removedSealedFiles: removedSealed } : given;
  ctx.state.backup = {
    file: result.file, keyId: key.keyId, splitId: b.split.id, threshold: b.split.threshold, count: b.split.count, custodians: b.split.shares.map((s) => s.custodian), kcv: result.kcv,
    ...(resplitOf ? { resplitOf } : {}),
  };
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

/**
 * A key generated wrap-with-trusted can only be wrapped by a KEK the security officer made
 * trusted; that is the default. Keys from elsewhere follow the ceremony's trustedKek choice.
 */
function needsTrustedKek(ctx: ActionContext): boolean {
  const custody = ctx.state.keys[keyAlias(ctx)]?.custody;
  return custody ? custody === 'wrap-with-trusted' : ctx.params.trustedKek !== false;
}

async function backupWithPins(ctx: ActionContext, key: KeyRef): Promise<BackupResult> {
  const trusted = needsTrustedKek(ctx);
  const pins = ctx.secrets.backupPins;
  try {
    return await makeBackup(ctx.session(), {
      keyLabel: key.label, keyId: key.keyId, threshold: Number(ctx.params.threshold), count: Number(ctx.params.count),
      custodians: custodians(ctx), ceremonyId: ctx.ceremonyId, outDir: ctx.outDir, trustedKek: trusted, now: ctx.now(),
      pins: trusted && pins?.so && pins.user ? { so: pins.so, user: pins.user } : undefined,
      watchKek: ctx.secrets.watchKek,
    });
  } finally {
    ctx.secrets.dropBackupPins();
  }
}

/** With a trusted KEK the security officer creates the KEK: ask for the SO PIN, then the user PIN to log back in. */
function trustedPinNeed(ctx: ActionContext) {
  if (!needsTrustedKek(ctx)) return null;
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
    if (need) ctx.secrets.holdBackupPin(need.user, input.pin);
    return 'pending';
  },
  async run(ctx) {
    const key = keyRef(ctx);
    const superseded = discardStaleBackup(ctx);
    const result = await backupWithPins(ctx, key);
    await recordBackup(ctx, result, key, superseded ? { supersedes: superseded } : {});
    return 'done';
  },
};

/** Where drill shares go, when the operator explicitly asked for a drill printout. */
function drillFile(ctx: ActionContext): string | null {
  const f = ctx.params.drillSharesFile;
  return typeof f === 'string' && f ? f : null;
}

interface HandoutState {
  current: number;
  /** Words on screen: privacy → reveal → confirm. Sealed to an OpenPGP key: seal → confirm. */
  phase: 'privacy' | 'reveal' | 'confirm' | 'seal';
  positions?: number[];
  /** How many times this share was asked for again (each re-show goes through the privacy gate). */
  reshows?: number;
  /** The sealed share file, once written (sealed hand-outs only). */
  sealedFile?: SealedFile;
}

/** The first phase of a custodian's hand-out: sealed to their confirmed OpenPGP key, or words on screen. */
function firstPhase(ctx: ActionContext, share: { index: number; custodian: string }): HandoutState['phase'] {
  return sealingKeyFor(ctx, share) ? 'seal' : 'privacy';
}

/**
 * Words 1–5 of a share encode the split (version, split id, threshold, count) and are the same on
 * every share of it: re-reading them proves nothing about this custodian's card.
 */
export const SPLIT_WIDE_WORDS = 5;

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
      if (backup.resplitOf) return voidResplitNeed(ctx, backup.resplitOf, backup.splitId);
      // First say why (the split is void), then ask the security officer for the new trusted KEK.
      const pinNeed = trustedPinNeed(ctx);
      if (pinNeed && ctx.state.actionState.voidAcknowledged === true) return pinNeed;
      const why = voidSplitReason(ctx, backup.splitId);
      return {
        kind: 'continue',
        message: `${why} Continue to make a new backup with a new split${pinNeed ? ' (the security officer then enters the SO PIN for its trusted KEK)' : ''}.`,
      };
    }
    const h = handout(ctx);
    const share = ctx.secrets.issued.find((s) => s.index === h.current)!;
    const custodian = custodianOf(ctx, share) ?? { id: share.custodian, name: share.custodian, roles: ['custodian'] };
    const key = sealingKeyFor(ctx, share);
    return {
      kind: 'shareHandout', custodian: shownAs(ctx, custodian), shareIndex: share.index, of: backup.count, phase: h.phase,
      header: h.phase === 'privacy' ? undefined : share.header,
      confirmPositions: h.phase === 'confirm' ? h.positions : undefined,
      shareCards: shareCardsAllowed(ctx),
      ...(key ? { sealed: { recipientFingerprint: key.fingerprint, fingerprintGroups: key.fingerprintGroups, defaultDir: defaultSealDir(ctx), file: h.sealedFile } } : {}),
    };
  },
  async run(ctx) {
    const resplitOf = ctx.state.backup?.resplitOf;
    if (resplitOf) return resplitVoidSplit(ctx, resplitOf);
    // 'continue' after a restart: remake the backup (the old split's KEK is gone), once the
    // PINs a trusted KEK needs are in.
    if (trustedPinNeed(ctx)) {
      ctx.state.actionState.voidAcknowledged = true;
      return 'pending';
    }
    const key = keyRef(ctx);
    const superseded = discardStaleBackup(ctx);
    const result = await backupWithPins(ctx, key);
    await recordBackup(ctx, result, key, { supersedes: superseded, reason: voidSplitRecord(ctx) });
    ctx.state.actionState.freshSplit = undefined;
    return 'pending';
  },
  async provide(ctx, input) {
    const issued = ctx.secrets.issued;
    if (!issued && ctx.state.backup?.resplitOf) {
      // The outgoing custodians' shares again, each checked at once against the backup they belong to.
      if (input.kind === 'share' && ctx.state.actionState.voidAcknowledged === true) await acceptShare(ctx, readBackupFile(ctx.state.backup.resplitOf), input.text);
      return 'pending';
    }
    if (!issued) {
      const need = trustedPinNeed(ctx);
      if (need && input.kind === 'pin') ctx.secrets.holdBackupPin(need.user, input.pin);
      return 'pending';
    }
    const h = handout(ctx);
    const share = issued.find((s) => s.index === h.current)!;
    const custodianId = custodianOf(ctx, share)?.id ?? null;
    const sealingKey = sealingKeyFor(ctx, share);
    if (sealingKey) {
      if (input.kind === 'shareSeal' && h.phase === 'seal') {
        h.sealedFile = await writeSealedShare(ctx, share, sealingKey, custodianId ?? share.custodian, input.dir);
        h.phase = 'confirm';
        h.positions = confirmPositions(share.words.length, ctx.step.with?.confirmWords);
        ctx.state.actionState.handout = { ...h };
        return 'pending';
      }
      if (input.kind === 'shareCannotDecrypt' && h.phase === 'confirm') return cannotDecrypt(ctx, share, sealingKey, h, custodianId);
      if (input.kind !== 'shareConfirm' || h.phase !== 'confirm') {
        throw new KeyriteError('CEREMONY_INPUT_UNEXPECTED', `Share ${share.index} is sealed to ${share.custodian}'s OpenPGP key and is never shown: ${h.phase === 'seal' ? 'write the sealed file first' : `${share.custodian} decrypts the file and types back the words asked for, or says they cannot decrypt it`}.`, { details: { index: share.index, phase: h.phase } });
      }
    } else if (input.kind === 'shareSeal' || input.kind === 'shareCannotDecrypt') {
      throw new KeyriteError('SHARE_CANNOT_DECRYPT_NOT_SEALED', `Share ${share.index} is not sealed to an OpenPGP key: ${share.custodian} receives it as words on screen.`, { details: { index: share.index } });
    }
    if (input.kind === 'shareReshow') {
      if (h.phase === 'privacy') throw new KeyriteError('SHARE_RESHOW_NOT_NEEDED', `Share ${share.index} is not shown yet: the room looks away first, then ${share.custodian} shows it.`);
      h.reshows = (h.reshows ?? 0) + 1;
      ctx.emit('SHARE_RESHOW_REQUESTED', { index: share.index, custodian: share.custodian, splitId: ctx.state.backup!.splitId, from: h.phase, reshow: h.reshows }, custodianId);
      h.phase = 'privacy';
      h.positions = undefined;
      ctx.state.actionState.handout = { current: h.current, phase: h.phase, reshows: h.reshows };
      return 'pending';
    }
    if (input.kind === 'shareAck') {
      if (h.phase === 'privacy' && h.reshows) {
        h.phase = 'reveal';
        ctx.emit('SHARE_REDISPLAYED', { index: share.index, custodian: share.custodian, header: share.header, splitId: ctx.state.backup!.splitId, reshow: h.reshows }, custodianId);
      } else if (h.phase === 'privacy') {
        h.phase = 'reveal';
        // (never for a sealed share: those were turned away above)
        ctx.emit('SHARE_ISSUED', { index: share.index, custodian: share.custodian, header: share.header, splitId: ctx.state.backup!.splitId });
        const f = drillFile(ctx);
        if (f) {
          if (!ctx.state.actionState.drillExported) {
            ctx.state.actionState.drillExported = true;
            ctx.emit('DRILL_SHARES_EXPORTED', { file: path.resolve(f), splitId: ctx.state.backup!.splitId, note: 'shares written to a file at the operator\'s explicit request (drill only)' });
          }
          await appendDrillShare(f, ctx.ceremonyId, `# ${share.header} · ${share.custodian}\n${share.words.join(' ')}\n`);
        }
      } else {
        // Written down: ask for a random subset of the words back.
        h.phase = 'confirm';
        h.positions = confirmPositions(share.words.length, ctx.step.with?.confirmWords);
      }
      ctx.state.actionState.handout = { current: h.current, phase: h.phase, positions: h.positions, reshows: h.reshows };
      return 'pending';
    }
    if (input.kind !== 'shareConfirm' || h.phase !== 'confirm') throw new KeyriteError('CEREMONY_INPUT_UNEXPECTED', 'The custodian must first see and write down the share.');
    const positions = h.positions ?? [];
    if (input.words.length !== positions.length) {
      throw new KeyriteError('SHARE_CONFIRM_MISMATCH', `Enter ${positions.length} words (words ${positions.map((p) => p + 1).join(', ')} of the share).`);
    }
    const wrong = positions.filter((p, i) => share.words[p] !== expandWord(String(input.words[i])));
    if (wrong.length > 0 && h.sealedFile) {
      const list = wrong.map((p) => p + 1).join(' and ');
      throw new KeyriteError('SHARE_CONFIRM_MISMATCH', `Word ${list} is not word ${list} of share ${share.index} as it was sealed. Check ${wrong.length > 1 ? 'those words' : 'that word'} in the file you decrypted (${h.sealedFile.name}); if you cannot decrypt it, say so and a fresh split is made.`, { details: { positions: wrong.map((p) => p + 1) } });
    }
    if (wrong.length > 0) {
      const list = wrong.map((p) => p + 1).join(' and ');
      throw new KeyriteError(
        'SHARE_CONFIRM_MISMATCH',
        `Word ${list} is not word ${list} of share ${share.index} as it was shown. Check ${wrong.length > 1 ? 'those words' : 'that word'} on your card; if the card is wrong, ask to see the share again (the room looks away again, and it is recorded).`,
        { details: { positions: wrong.map((p) => p + 1) } },
      );
    }
    ctx.emit('SHARE_CONFIRMED', {
      index: share.index, custodian: share.custodian, wordsChecked: positions.map((p) => p + 1),
      ...(h.sealedFile ? { delivery: 'openpgp', sha256: h.sealedFile.sha256, recipientFingerprint: sealingKey!.fingerprint } : {}),
    }, custodianId);
    ctx.state.handedOut.push(share.index);
    const next = issued.find((s) => !ctx.state.handedOut.includes(s.index));
    if (!next) {
      ctx.state.actionState.handout = undefined;
      ctx.state.evidence = { ...(ctx.state.evidence ?? {}), sharesHandedOut: ctx.state.handedOut.length };
      // The shares leave Keyrite's memory as soon as the last custodian confirmed theirs.
      ctx.secrets.blankIssuedWords();
      return 'done';
    }
    ctx.state.actionState.handout = { current: next.index, phase: firstPhase(ctx, next) };
    return 'pending';
  },
};

/**
 * The custodian cannot open their sealed share (wrong card, lost PIN, broken software): the split
 * is void (a share nobody can open must not count), recorded, the files written for it removed,
 * and the custodian moves to words. The hand-out then asks to continue with a fresh backup and split.
 */
function cannotDecrypt(ctx: ActionContext, share: { index: number; custodian: string }, key: NonNullable<ReturnType<typeof sealingKeyFor>>, h: HandoutState, custodianId: string | null): 'pending' {
  const splitId = ctx.state.backup!.splitId;
  const removed = removeVoidSealedFiles(ctx, null);
  key.status = 'undecryptable';
  ctx.emit('SHARE_UNDECRYPTABLE', {
    index: share.index, custodian: share.custodian, splitId, recipientFingerprint: key.fingerprint, fileName: h.sealedFile?.name ?? null, sha256: h.sealedFile?.sha256 ?? null,
    voidSplit: splitId, removedSealedFiles: removed, fallback: 'words',
  }, custodianId);
  ctx.secrets.forgetIssued();
  ctx.state.handedOut = [];
  ctx.state.actionState.handout = undefined;
  ctx.state.actionState.voidAcknowledged = undefined;
  ctx.state.actionState.freshSplit = { custodian: share.custodian, index: share.index };
  return 'pending';
}

/** Why the split is void, in the words the room hears before anything is made again. */
function voidSplitReason(ctx: ActionContext, splitId: string): string {
  const fresh = ctx.state.actionState.freshSplit as { custodian: string; index: number } | undefined;
  return fresh
    ? `${fresh.custodian} could not decrypt sealed share ${fresh.index}, so split ${splitId} is void: every share of it already handed out must be destroyed, and ${fresh.custodian} receives words on screen this time.`
    : `Keyrite stopped while shares of split ${splitId} were being handed out. Shares are never stored, so that backup is void and any shares already handed out must be destroyed.`;
}

/** The same, as the next BACKUP_WRITTEN records it (`reason`). */
function voidSplitRecord(ctx: ActionContext): string {
  const fresh = ctx.state.actionState.freshSplit as { custodian: string; index: number } | undefined;
  return fresh ? `${fresh.custodian} could not decrypt sealed share ${fresh.index}` : 'shares lost when Keyrite stopped during hand-out';
}

/**
 * A share rotation's split is void (a custodian could not decrypt, or Keyrite stopped during the
 * hand-out). Its KEK lives nowhere any more, and the key itself may not be in this HSM (a share
 * rotation never needs it): the outgoing custodians enter a threshold of their old shares again,
 * and that KEK is checked and split anew — the same path as the rotation's own re-split.
 */
function voidResplitNeed(ctx: ActionContext, resplitOf: string, splitId: string): Need {
  const old = readBackupFile(resplitOf);
  if (ctx.state.actionState.voidAcknowledged !== true) {
    return {
      kind: 'continue',
      message: `${voidSplitReason(ctx, splitId)} Continue: ${old.split.threshold} outgoing custodians enter their shares of split ${old.split.id} again, and the KEK is rebuilt from them and split anew (the key itself is not needed in this HSM).`,
    };
  }
  if (ctx.secrets.collected.length < old.split.threshold) return collectNeed(ctx, old);
  return { kind: 'continue', message: `Rebuild the KEK from the shares of split ${old.split.id} and split it ${String(ctx.params.threshold)}-of-${String(ctx.params.count)} again.` };
}

async function resplitVoidSplit(ctx: ActionContext, resplitOf: string): Promise<'pending'> {
  if (ctx.state.actionState.voidAcknowledged !== true) {
    ctx.state.actionState.voidAcknowledged = true;
    return 'pending';
  }
  const voidSplit = ctx.state.backup!.splitId;
  const result = await resplitFrom(ctx, readBackupFile(resplitOf));
  await recordBackup(ctx, result.result, result.key, { supersedes: voidSplit, resplitFrom: result.oldSplitId, reason: voidSplitRecord(ctx) }, resplitOf);
  ctx.state.actionState.freshSplit = undefined;
  ctx.state.actionState.voidAcknowledged = undefined;
  return 'pending';
}

/**
 * Rebuild the KEK of `backup` from the shares in memory and split it anew into this ceremony's
 * backup file. A re-split file this ceremony wrote earlier (its split void, or never recorded
 * because the process died) is removed first; another ceremony's file is never touched.
 */
async function resplitFrom(ctx: ActionContext, backup: BackupFile): Promise<{ result: BackupResult; key: KeyRef; oldSplitId: string }> {
  const written = backupFilePath(ctx.outDir, backup.keyId);
  if (existsSync(written) && path.resolve(written) !== path.resolve(String(ctx.params.backupFile ?? ''))) {
    const stale = readBackupFile(written);
    if (stale.ceremonyId !== ctx.ceremonyId) {
      throw new KeyriteError('CEREMONY_ARTIFACT_EXISTS', `'${written}' belongs to another ceremony (${stale.ceremonyId}). Keyrite does not overwrite it; move it away and retry.`, { details: { file: written } });
    }
    rmSync(written);
    delete ctx.state.artifacts[path.relative(ctx.outDir, written)];
  }
  const result = await resplitBackup(ctx.session(), backup, [...ctx.secrets.collected], {
    threshold: Number(ctx.params.threshold), count: Number(ctx.params.count), custodians: custodians(ctx),
    ceremonyId: ctx.ceremonyId, outDir: ctx.outDir, now: ctx.now(), watchKek: ctx.secrets.watchKek,
  });
  // Kept until it succeeds: a failure (a token fault) is retried without asking for the shares again.
  ctx.secrets.clearCollected();
  ctx.state.collected = [];
  const key: KeyRef = { keyId: backup.keyId, label: backup.keyLabel, type: backup.keyType, spkiSha256: backup.spkiSha256, purpose: 'root-signing', tokenLabel: ctx.state.tokenLabel };
  return { result, key, oldSplitId: backup.split.id };
}

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
  // After the last hand-out the list stays (blank words) with nobody left to hand out to.
  const h = issued && (ctx.state.actionState.handout || issued.some((s) => !ctx.state.handedOut.includes(s.index))) ? handout(ctx) : undefined;
  const current = issued && h ? issued.find((s) => s.index === h.current) : undefined;
  const sealingKey = current ? sealingKeyFor(ctx, current) : null;
  if (current && h && sealingKey) {
    // A sealed share's card: once the file is written, with its hash and never the words.
    if (!h.sealedFile) throw new KeyriteError('SHARE_CARD_UNAVAILABLE', `The card for sealed share ${current.index} can be printed once the sealed file is written.`, { details: { step: ctx.step.id, phase } });
    const html = renderSealedShareCardHtml(current, h.sealedFile, sealingKey.fingerprintGroups, { ceremonyTitle: ctx.script.title, keyId: ctx.state.backup!.keyId });
    ctx.emit('SHARE_CARD_PRINTED', { index: current.index, custodian: current.custodian, splitId: ctx.state.backup!.splitId, sealed: true, sha256: h.sealedFile.sha256 }, custodianOf(ctx, current)?.id ?? null);
    return { html, index: current.index, custodian: current.custodian };
  }
  const share = phase === 'reveal' ? current : undefined;
  if (!share || share.words.every((w) => !w)) {
    throw new KeyriteError('SHARE_CARD_UNAVAILABLE', 'A share card can be printed only while the share is shown on screen, after the others have looked away and before it is hidden. Show the share first.', { details: { step: ctx.step.id, phase } });
  }
  const html = await renderShareCardHtml(share, { ceremonyTitle: ctx.script.title, keyId: ctx.state.backup!.keyId });
  ctx.emit('SHARE_CARD_PRINTED', { index: share.index, custodian: share.custodian, splitId: ctx.state.backup!.splitId }, custodianOf(ctx, share)?.id ?? null);
  return { html, index: share.index, custodian: share.custodian };
}

function handout(ctx: ActionContext): HandoutState {
  const saved = ctx.state.actionState.handout as HandoutState | undefined;
  if (saved) return { ...saved };
  const first = ctx.secrets.issued!.find((s) => !ctx.state.handedOut.includes(s.index))!;
  return { current: first.index, phase: firstPhase(ctx, first) };
}

/**
 * The words to read back: `all` (or a number covering the share's own words) asks for the whole
 * card; otherwise k random positions among the words unique to this share (6…33), never the
 * split-wide words 1–5, which every custodian of the split has in common.
 */
export function confirmPositions(n: number, setting: unknown, pick: (max: number) => number = randomInt): number[] {
  const own = n - SPLIT_WIDE_WORDS;
  const k = setting === 'all' ? n : Number(setting ?? 4);
  if (!Number.isInteger(k) || k <= 0 || k >= own) return [...Array(n).keys()];
  const set = new Set<number>();
  while (set.size < k) set.add(SPLIT_WIDE_WORDS + pick(own));
  return [...set].sort((a, b) => a - b);
}

/** A read-back word as typed: any case, and a unique 4-letter prefix stands for its word. */
function expandWord(typed: string): string {
  const t = typed.trim().toLowerCase();
  const s = lookupWord(t);
  return s === undefined ? t : WORDS[s];
}

// ------------------------------------------------------------------ recovery

export function backupForStep(ctx: ActionContext): BackupFile {
  const file = ctx.state.backup?.file ?? (typeof ctx.params.backupFile === 'string' ? path.resolve(ctx.params.backupFile) : null);
  if (!file) throw new KeyriteError('CEREMONY_BACKUP_MISSING', 'This ceremony needs a backup file (--backup FILE).');
  return readBackupFile(file);
}

function collectNeed(ctx: ActionContext, backup: BackupFile) {
  const accepted = ctx.secrets.collected.map((s) => {
    const c = backup.split.shares.find((x) => x.index === s.index);
    return { index: s.index, custodian: c?.custodian ?? '' };
  });
  return { kind: 'shareEntry' as const, accepted, needed: Math.max(0, backup.split.threshold - accepted.length), threshold: backup.split.threshold, splitId: backup.split.id };
}

/** Each typed share is checked at once against the backup's per-share digest. */
async function acceptShare(ctx: ActionContext, backup: BackupFile, text: string): Promise<'done' | 'pending'> {
  let share: DecodedShare | undefined;
  try {
    // The sealed file itself, handed over instead of its decrypted text: say so, not "unknown word".
    if (/-----BEGIN PGP MESSAGE-----/.test(text)) {
      throw new KeyriteError('SHARE_FILE_ENCRYPTED', 'This is the sealed (encrypted) share file, not the share. Decrypt it first on your own device (gpg --decrypt FILE) and enter or hand over the decrypted text.');
    }
    share = decodeShare(text);
    const { index, custodian } = checkShareAgainstBackup(backup, share);
    if (ctx.secrets.collected.some((s) => s.index === index)) {
      throw new KeyriteError('SHARE_DUPLICATE', `Share ${index} (${custodian}) was already entered. The next custodian enters theirs.`, { details: { index } });
    }
    ctx.secrets.addCollected(share);
    ctx.state.collected = ctx.secrets.collected.map((s) => s.index);
    ctx.emit('SHARE_ACCEPTED', { index, custodian, splitId: backup.split.id });
  } catch (e) {
    // A refused share is not kept: its bytes are zeroized here (an accepted one by the holder).
    if (share && !ctx.secrets.collected.includes(share)) zeroize(share.share);
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
    // An earlier run of this step may have been cut short: a finished restore is adopted, an
    // unfinished one is cleared and done again (settleInterruptedRestore). Only if this ceremony
    // announced a restore: objects under the label otherwise are another's — a drill of the same
    // backup running beside this one — and are neither adopted (no KEK rebuilt here) nor destroyed.
    const announced = ctx.state.actionState.restoreAnnounced === label;
    if (!announced) {
      // Claimed in the store first: a drill beside this one into the same token finds the label free too.
      const other = await claimRestoreLabel(ctx.deps.store, { tokenSerial: session.token.serial, label, ceremonyId: ctx.ceremonyId, at: ctx.now().toISOString() });
      if (other !== null) {
        throw new KeyriteError('HSM_LABEL_EXISTS', `Ceremony ${other} is restoring '${label}' into token '${session.token.label}' right now. Two drills never restore one key into one token at once: let that one finish (or abort it), then continue here, or restore into an empty token.`, { details: { label, tokenLabel: session.token.label, ceremonyId: other } });
      }
      if (session.find({ label }).length > 0) {
        throw new KeyriteError('HSM_LABEL_EXISTS', `Token '${session.token.label}' already holds a key labelled '${label}' that this ceremony did not restore (another drill of this backup into the same token?). Keyrite will not restore over it: finish or abort that ceremony, or restore into an empty token.`, { details: { label, tokenLabel: session.token.label } });
      }
      ctx.state.actionState.restoreAnnounced = label;
      await ctx.checkpoint();
    }
    if (announced && settleInterruptedRestore(session, backup) === 'complete') {
      // Found already restored (this step ran before an interruption): no KEK is rebuilt now, so none is claimed.
      spkiSha256 = findKeyPair(session, label).publicInfo.fingerprint;
      ctx.emit('KEY_RESTORED', { keyId: backup.keyId, label, spkiSha256, tokenLabel: session.token.label, tokenSerial: session.token.serial, backupFile: path.basename(backupFile), backupSha256, reconciled: true });
    } else {
      const restored = await restore(session, backup, [...ctx.secrets.collected], { watchKek: ctx.secrets.watchKek });
      spkiSha256 = restored.spkiSha256;
      // restore() checked the KCV before unwrapping (assertKcv): only then is the KEK rebuilt and matched.
      ctx.emit('KEK_REBUILT', { splitId: backup.split.id, shares: ctx.state.collected, kcv: backup.kek.kcv, kcvMatched: true });
      const { spkiSha256: _proven, ...proof } = restored.proof;
      ctx.emit('KEY_RESTORED', { keyId: backup.keyId, label, spkiSha256, tokenLabel: session.token.label, tokenSerial: session.token.serial, backupFile: path.basename(backupFile), backupSha256, ...proof });
    }
    ctx.secrets.clearCollected();
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
    const { result, key } = await resplitFrom(ctx, backup);
    ctx.state.keys.ceremony = key;
    ctx.emit('SHARES_RESPLIT', { keyId: backup.keyId, oldSplitId: backup.split.id, newSplitId: result.backup.split.id, threshold: result.backup.split.threshold, count: result.backup.split.count });
    // A void split later is made again from the same file's shares.
    await recordBackup(ctx, result, key, { resplitFrom: backup.split.id }, path.resolve(String(ctx.params.backupFile)));
    return 'done';
  },
};
