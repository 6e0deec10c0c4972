import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { z } from 'zod';
import { loadYamlWithSchema } from '../config/yaml-schema';
import { resolveResource } from '../config/resources';
import { KeyriteError } from '../errors';
import type { CeremonyView, Need, StepInput } from './types';

const answersSchema = z.strictObject({
  /** The token to run on: a PKCS#11 URI (pkcs11:token=…;serial=…?module-path=…) or a label. */
  token: z.string().min(1).optional(),
  /** PKCS#11 module initialisation arguments (NSS: configdir=…); not secret. */
  moduleArgs: z.string().min(1).optional(),
  participants: z
    .array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        roles: z.array(z.string()).min(1),
        /** A custodian's armored OpenPGP public key file (relative to the answers file): their share is sealed to it. */
        openpgpKey: z.string().min(1).optional(),
        /**
         * Drills and tests only: an unprotected armored private TEST key (relative to the answers file) with which
         * the driver opens the sealed share for the proof of possession, as the custodian's card would.
         */
        openpgpTestSecretKey: z.string().min(1).optional(),
        /** Drills and tests only: this custodian says they cannot decrypt their sealed share (a fresh split follows). */
        openpgpCannotDecrypt: z.boolean().optional(),
      }),
    )
    .optional(),
  /** Where sealed shares are written (default: beside the bundle, `<out>-sealed-shares`). */
  sealedSharesDir: z.string().min(1).optional(),
  /** The demo token only (its PINs are public); other tokens: KEYRITE_PIN / --pin-file. */
  pin: z.string().optional(),
  /** The demo token only; the security officer's PIN for a trusted KEK. */
  soPin: z.string().optional(),
  preflightOverride: z.strictObject({ personId: z.string(), reason: z.string() }).optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Who signs each step, by step id; otherwise the first eligible people sign. */
  signoffs: z.record(z.string(), z.array(z.string())).optional(),
  statements: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /** Shares for steps that collect them: the text (words, optionally with the header line), or a decrypted sealed-share file. */
  shares: z.array(z.union([z.string(), z.strictObject({ file: z.string().min(1) })])).optional(),
});

export type Answers = z.infer<typeof answersSchema>;

/** `remember` is for the built-in demo answers only: an operator's answers file may hold PINs and share words, never kept. */
function loadAnswersFile(file: string, remember: boolean): Answers {
  const answers = loadYamlWithSchema(file, answersSchema, 'ANSWERS_INVALID', 'answers file', { remember });
  // Key files and the sealed-share folder are named relative to the answers file, like a script's.
  const dir = path.dirname(path.resolve(file));
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(dir, p));
  return {
    ...answers,
    ...(answers.sealedSharesDir ? { sealedSharesDir: at(answers.sealedSharesDir) } : {}),
    ...(answers.shares ? { shares: answers.shares.map((x) => (typeof x === 'string' ? x : { file: at(x.file)! })) } : {}),
    ...(answers.participants
      ? { participants: answers.participants.map((p) => ({ ...p, ...(p.openpgpKey ? { openpgpKey: at(p.openpgpKey) } : {}), ...(p.openpgpTestSecretKey ? { openpgpTestSecretKey: at(p.openpgpTestSecretKey) } : {}) })) }
      : {}),
  };
}

/** A decrypted sealed-share file an answers file names: its text goes to the same decoder as typed words. */
function readShareFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeyriteError('SHARE_FILE_UNREADABLE', `'${file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}). Name the decrypted share file (gpg --decrypt FILE > share.txt).`, { details: { file } });
  }
}

/** The armored text of a key file an answers file names. */
function readKeyFile(file: string, personId: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeyriteError('ANSWERS_INVALID', `The answers file names '${file}' as an OpenPGP key of '${personId}', but it cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { details: { file, personId } });
  }
}

export function loadAnswers(file: string): Answers {
  return loadAnswersFile(file, false);
}

/** The built-in rehearsal answers: their PINs are the demo token's public ones, so parsing them once is safe. */
export function demoAnswers(): Answers {
  return loadAnswersFile(resolveResource('ceremonies/demo-participants.yaml'), true);
}

const missing = (what: string, step: string): KeyriteError =>
  new KeyriteError('ANSWERS_MISSING', `The answers file has no ${what} for step '${step}'. Add it and resume the ceremony.`, { details: { what, step } });

/** The answers file names who signs a step, and none of them can: say who is wrong and why. */
function wrongSigners(chosen: string[], roles: string[], view: CeremonyView, signed: Set<string>, step: string): KeyriteError {
  const wanted = roles.join(' or ');
  const an = /^[aeiou]/i.test(wanted) ? `an ${wanted}` : `a ${wanted}`;
  const reasons = chosen.map((id) => {
    const p = view.participants.find((x) => x.id === id);
    if (!p) return `'${id}' is not a checked-in participant`;
    if (signed.has(id)) return `${id} has already signed this step`;
    return `${id} is ${p.roles.join(', ')}, not ${wanted}`;
  });
  return new KeyriteError('ANSWERS_SIGNOFF_WRONG_PERSON', `The answers file lists ${chosen.join(', ')} to sign step '${step}', which still needs ${an}, but ${reasons.join('; ')}. List ${an} under signoffs.${step} (or give that person the role under participants).`, { details: { step, listed: chosen, needed: roles, reasons } });
}

/**
 * Drives a ceremony from an answers file, with no person at the keyboard: for drills, tests and
 * `--demo`. It answers exactly what the runner asks, so it exercises the same path as a person.
 */
export class AnswersDriver {
  private sharesUsed = 0;
  private readonly written = new Map<number, string[]>();

  constructor(private readonly answers: Answers) {}

  next(view: CeremonyView): StepInput | null {
    const cur = view.current;
    if (!cur || view.status !== 'running') return null;
    const need: Need = cur.need;
    switch (need.kind) {
      case 'participants':
        if (!this.answers.participants) throw missing('participants', cur.id);
        return {
          kind: 'participants',
          participants: this.answers.participants.map((p) => ({ id: p.id, name: p.name, roles: p.roles, ...(p.openpgpKey ? { openpgpKey: readKeyFile(p.openpgpKey, p.id) } : {}) })),
        };
      case 'openpgpConfirm':
        // An answers file stands for the custodian reading their own device: the tail as shown.
        return { kind: 'openpgpConfirm', typed: need.fingerprint.slice(-need.tailLength) };
      case 'preflightOverride':
        if (!this.answers.preflightOverride) throw missing('preflight override (a network interface is up)', cur.id);
        return { kind: 'preflightOverride', ...this.answers.preflightOverride };
      case 'pin': {
        const pin = need.user === 'so' ? this.answers.soPin : this.answers.pin;
        if (!pin) {
          throw new KeyriteError('ANSWERS_MISSING', `No ${need.user === 'so' ? 'SO PIN' : 'PIN'} was given for step '${cur.id}'. Set ${need.user === 'so' ? 'KEYRITE_SO_PIN or pass --so-pin-file FILE' : 'KEYRITE_PIN or pass --pin-file FILE'} (an answers file holds PINs only for the demo token) and resume the ceremony.`, { details: { what: need.user === 'so' ? 'SO PIN' : 'PIN', step: cur.id } });
        }
        return { kind: 'pin', pin };
      }
      case 'signoff': {
        const signed = new Set(need.signed.map((s) => s.personId));
        const chosen = this.answers.signoffs?.[cur.id];
        for (const [role] of Object.entries(need.remaining)) {
          const person = view.participants.find((p) => p.roles.includes(role) && !signed.has(p.id) && (!chosen || chosen.includes(p.id)));
          if (person) return { kind: 'signoff', personId: person.id, role };
        }
        if (chosen) throw wrongSigners(chosen, Object.keys(need.remaining), view, signed, cur.id);
        throw missing(`sign-off by a ${Object.keys(need.remaining).join(' or ')}`, cur.id);
      }
      case 'shareHandout':
        if (need.sealed) {
          if (need.phase === 'seal') return { kind: 'shareSeal', ...(this.answers.sealedSharesDir ? { dir: this.answers.sealedSharesDir } : {}) };
          if (this.custodian(need.custodian.id)?.openpgpCannotDecrypt) return { kind: 'shareCannotDecrypt' };
          throw new KeyriteError('INTERNAL_NO_SHARE', 'A sealed share is read back with nextAsync (it must be decrypted first).');
        }
        if (need.phase === 'privacy') return { kind: 'shareAck' };
        if (need.phase === 'reveal') {
          if (!view.revealedShare) throw new KeyriteError('INTERNAL_NO_SHARE', 'The share to hand out is not in memory.');
          this.written.set(need.shareIndex, [...view.revealedShare.words]);
          return { kind: 'shareAck' };
        }
        return { kind: 'shareConfirm', words: (need.confirmPositions ?? []).map((p) => this.written.get(need.shareIndex)?.[p] ?? '') };
      case 'shareEntry': {
        const shares = this.answers.shares ?? [];
        if (this.sharesUsed >= shares.length) throw missing(`share (${need.needed} more needed)`, cur.id);
        const given = shares[this.sharesUsed++];
        return { kind: 'share', text: typeof given === 'string' ? given : readShareFile(given.file) };
      }
      case 'statement': {
        const values = this.answers.statements?.[cur.id];
        if (!values) throw missing('statement', cur.id);
        return { kind: 'statement', values };
      }
      case 'continue':
        return { kind: 'continue' };
      case 'done':
        return null;
    }
  }

  /**
   * As `next`, and for the proof of possession of a sealed share: open the file with the
   * custodian's test key (as their card would) and type back the words asked for.
   */
  async nextAsync(view: CeremonyView): Promise<StepInput | null> {
    const need = view.current?.need;
    if (view.status !== 'running' || need?.kind !== 'shareHandout' || !need.sealed || need.phase !== 'confirm' || !need.sealed.file) return this.next(view);
    const who = this.custodian(need.custodian.id);
    if (who?.openpgpCannotDecrypt) return { kind: 'shareCannotDecrypt' };
    if (!who?.openpgpTestSecretKey) throw missing(`test secret key (openpgpTestSecretKey) of custodian '${need.custodian.id}' to open their sealed share`, view.current!.id);
    const words = (await decryptWithTestKey(need.sealed.file.path, readKeyFile(who.openpgpTestSecretKey, who.id))).trim().split('\n').pop()!.trim().split(/\s+/);
    const asked = (need.confirmPositions ?? []).map((p) => words[p] ?? '');
    words.fill('');
    return { kind: 'shareConfirm', words: asked };
  }

  private custodian(id: string): NonNullable<Answers['participants']>[number] | undefined {
    return this.answers.participants?.find((p) => p.id === id);
  }

  /** Forget the shares it wrote down (they were only needed for re-entry). */
  forget(): void {
    for (const w of this.written.values()) w.fill('');
    this.written.clear();
  }
}

/**
 * Run `provide` until the ceremony ends. A problem the runner reports (wrong PIN, rejected share)
 * stops the drive: answers are fixed, so retrying would fail the same way.
 */
export async function driveWithAnswers(
  start: CeremonyView,
  provide: (input: StepInput) => Promise<CeremonyView>,
  driver: AnswersDriver,
  hooks: { onView?: (view: CeremonyView, input: StepInput | null) => void | Promise<void> } = {},
): Promise<CeremonyView> {
  let view = start;
  let guard = 0;
  try {
    for (;;) {
      const input = await driver.nextAsync(view);
      await hooks.onView?.(view, input);
      if (!input) return view;
      view = await provide(input);
      if (view.lastError) throw new KeyriteError(view.lastError.code, view.lastError.message, { details: view.lastError.details });
      // Each input moves the ceremony on; a script's steps and sign-offs are capped (MAX_SCRIPT_STEPS), so
      // this many inputs means a step keeps asking the same thing.
      if (++guard > 10_000) throw new KeyriteError('INTERNAL_NO_PROGRESS', `The ceremony asked for more than 10000 inputs at step '${view.current?.id ?? '?'}' without finishing; a step keeps asking for the same thing. Report this with the ceremony id.`);
    }
  } finally {
    driver.forget();
  }
}

/** Drills and tests: a sealed share opened with an unprotected test key (a real custodian uses their own device). */
async function decryptWithTestKey(file: string, armoredKey: string): Promise<string> {
  const key = await openpgp.readPrivateKey({ armoredKey });
  const message = await openpgp.readMessage({ armoredMessage: readFileSync(file, 'utf8') });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key });
  return String(data);
}
