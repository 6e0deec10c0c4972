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
  participants: z.array(z.strictObject({ id: z.string(), name: z.string(), roles: z.array(z.string()).min(1) })).optional(),
  /** The demo token only (its PINs are public); other tokens: KEYRITE_PIN / --pin-file. */
  pin: z.string().optional(),
  /** The demo token only; the security officer's PIN for a trusted KEK. */
  soPin: z.string().optional(),
  preflightOverride: z.strictObject({ personId: z.string(), reason: z.string() }).optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Who signs each step, by step id; otherwise the first eligible people sign. */
  signoffs: z.record(z.string(), z.array(z.string())).optional(),
  statements: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  shares: z.array(z.string()).optional(),
});

export type Answers = z.infer<typeof answersSchema>;

export function loadAnswers(file: string): Answers {
  return loadYamlWithSchema(file, answersSchema, 'ANSWERS_INVALID', 'answers file');
}

export function demoAnswers(): Answers {
  return loadAnswers(resolveResource('ceremonies/demo-participants.yaml'));
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
        return { kind: 'participants', participants: this.answers.participants };
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
        return { kind: 'share', text: shares[this.sharesUsed++] };
      }
      case 'statement': {
        const values = this.answers.statements?.[cur.id];
        if (!values) throw missing('statement', cur.id);
        return { kind: 'statement', values };
      }
      case 'continue':
        return { kind: 'continue' };
      case 'openpgpConfirm':
        throw new KeyriteError('INTERNAL_NO_PROGRESS', 'OpenPGP enrolment is not in answers files yet.');
      case 'done':
        return null;
    }
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
      const input = driver.next(view);
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
