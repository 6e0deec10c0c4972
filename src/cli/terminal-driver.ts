import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CeremonyView, Need, Participant, RoleSpec, StepInput } from '../core/ceremony';
import { initials } from '../core/ceremony/signoff-act';
import { KeyriteError } from '../core/errors';
import { describeCharacter, firstUnsafeCharacter } from '../core/text/plain-text';
import { loadPrompts, type Prompts } from './prompts';
import { enterShareWords } from './share-word-entry';
import { describeStop, type StopKey } from './terminal-stop';
import { CLEAR_SCREEN_AND_SCROLLBACK, wordGrid, wrapWords } from './terminal-layout';
import { SERIAL_HINT, SERIAL_PATTERN } from '../shared/serial-rule';

const write = (s: string) => process.stdout.write(s);
/** A line of prose, indented and wrapped on word boundaries at the terminal's width. */
const say = (s: string) => write(`${wrapWords(s, '   ')}\n`);

/** "exactly 5", "1–2", "at least 1": the bound check-in really enforces. */
export function roleBound(r: Pick<RoleSpec, 'min' | 'max'>): string {
  if (r.min === r.max) return `exactly ${r.min}`;
  return `${r.min}–${r.max}`;
}

/**
 * Asks the people at the terminal for what the current step needs, one prompt at a time, and
 * every answer means what it says: "No" pauses and asks again, it never moves on. Irreversible
 * acts default to No and need the token label (and key id) typed. PINs are read without echo;
 * a share is shown only after everyone else has looked away, and the screen and scrollback are
 * cleared after it and after the words read back from it.
 *
 * One driver lives for one terminal run: it keeps the check-in list when the core refuses it
 * (so one bad row is fixed, not the whole list retyped) and the read-back words that were right.
 */
export class TerminalDriver {
  private draft: Array<Participant & { keyFile?: string }> = [];
  private readBack: { key: string; words: string[] } | null = null;
  /** The statement being typed (bag serials per share index), kept while the core refuses a row. */
  private statementDraft: { key: string; values: Record<string, string>; bags: Record<string, Record<number, string>> } | null = null;
  /** A share was on this screen during this run: if the run stops now, that split is void. */
  shareShown = false;

  async ask(view: CeremonyView): Promise<StepInput | null> {
    const p = await loadPrompts();
    const cur = view.current;
    if (!cur || view.status !== 'running') return null;
    const need = cur.need;
    switch (need.kind) {
      case 'participants':
        return this.checkIn(p, need.roles, view);
      case 'preflightOverride': {
        say(need.message);
        const go = await p.confirm({ message: 'Override the network check (recorded in the transcript)?', default: false });
        if (!go) throw new KeyriteError('CEREMONY_PREFLIGHT_REFUSED', 'Disconnect the network interfaces and resume the ceremony with `keyrite ceremony resume`.');
        const admins = view.participants.filter((x) => x.roles.includes('admin'));
        const person = await this.typedPerson(p, admins, 'Administrator overriding — type your full name or initials:');
        const reason = await p.input({ message: 'Reason:', validate: (v) => plainTextProblem(v, 'The reason') ?? (v.trim() ? true : 'Type the reason; it goes into the transcript.') });
        return { kind: 'preflightOverride', personId: person.id, reason };
      }
      case 'pin':
        say(need.message);
        return { kind: 'pin', pin: await p.password({ message: `${need.user === 'so' ? 'SO PIN' : 'PIN'} for token '${need.tokenLabel}':`, mask: false }) };
      case 'signoff':
        return this.signoff(p, need, view);
      case 'shareHandout':
        return this.handout(p, need, view);
      case 'shareEntry': {
        say(`${need.accepted.length} of ${need.threshold} shares accepted${need.accepted.length ? ` (${need.accepted.map((a) => `${a.index}: ${a.custodian}`).join(', ')})` : ''}.`);
        const words = await enterShareWords(p, 'Next custodian');
        // A decrypted sealed-share file goes to the core as its text: the same decoder as typed words.
        if (!Array.isArray(words)) return { kind: 'share', text: readFileSync(words.file, 'utf8') };
        const text = words.join(' ');
        words.fill('');
        return { kind: 'share', text };
      }
      case 'statement':
        return this.statement(p, need, view);
      case 'continue':
        return need.irreversible ? this.irreversible(p, need) : this.proceed(p, need.message);
      case 'openpgpConfirm':
        return this.confirmFingerprint(p, need);
      case 'done':
        return null;
    }
  }

  // ------------------------------------------------------------------ statements

  /**
   * One prompt per field; a bags field asks one serial per share, on the custodian's row. The
   * answers are kept for the step: when the core refuses one bag row, only that row is asked
   * again (and a refused count or other field, the whole form, with the typed values as defaults).
   */
  private async statement(p: Prompts, need: Extract<Need, { kind: 'statement' }>, view: CeremonyView): Promise<StepInput> {
    const key = view.current?.id ?? '';
    if (this.statementDraft?.key !== key) this.statementDraft = { key, values: {}, bags: {} };
    const draft = this.statementDraft;
    const badRow = typeof view.lastError?.details?.row === 'number' ? view.lastError.details.row : null;
    const badField = typeof view.lastError?.details?.field === 'string' ? view.lastError.details.field : null;
    for (const f of need.fields) {
      if (f.kind === 'bags' && f.rows) {
        const rows = badRow !== null && badField === f.id && draft.bags[f.id] ? f.rows.filter((r) => r.shareIndex === badRow) : f.rows;
        if (rows.length === f.rows.length) say(`${f.label}: one bag per share (${f.rows.length}). Read each serial from the bag.`);
        const typed = draft.bags[f.id] ?? {};
        for (const r of rows) {
          typed[r.shareIndex] = (await p.input({
            message: `Bag for share ${r.shareIndex} of ${f.rows.length} (${r.custodian}):`,
            default: typed[r.shareIndex],
            validate: (v) => bagRowProblem(v.trim(), r.shareIndex, f.rows!, typed) ?? true,
          })).trim();
        }
        draft.bags[f.id] = typed;
        draft.values[f.id] = f.rows.map((r) => typed[r.shareIndex]).join(' ');
        continue;
      }
      if (badRow !== null && badField !== f.id && draft.values[f.id] !== undefined) continue;
      draft.values[f.id] = await p.input({ message: `${f.label}${f.required ? '' : ' (optional)'}:`, default: draft.values[f.id] || undefined, validate: (v) => plainTextProblem(v, f.label) ?? (!f.required || v.trim() ? true : `${f.label} is required.`) });
    }
    return { kind: 'statement', values: { ...draft.values } };
  }

  /**
   * What was typed at this step but not yet handed to the core, as a sentence (or ''): the
   * check-in list and a statement's fields are sent whole, so a stop before that loses them, and
   * "everything up to the last answer is saved" must not let anyone think otherwise.
   */
  unsubmitted(view: CeremonyView | null): string {
    const cur = view?.current;
    if (cur?.need.kind === 'participants' && this.draft.length > 0) {
      const n = this.draft.length;
      return ` The ${n === 1 ? 'person' : `${n} people`} typed at check-in ${n === 1 ? 'was' : 'were'} not submitted yet: check ${n === 1 ? 'them' : 'them all'} in again after resuming.`;
    }
    if (cur?.need.kind === 'statement' && this.statementDraft?.key === cur.id && Object.keys(this.statementDraft.values).length > 0) {
      return ' The answers typed at this step were not submitted yet: type them again after resuming.';
    }
    return '';
  }

  /** Forget the read-back words (they were copied from a share). */
  forget(): void {
    this.readBack?.words.fill('');
    this.readBack = null;
  }

  // ------------------------------------------------------------------ check-in

  private async checkIn(p: Prompts, roles: RoleSpec[], view: CeremonyView): Promise<StepInput> {
    write(`${wrapWords(`Roles: ${roles.map((r) => `${r.id} (${r.title}): ${roleBound(r)}`).join('; ')}.`, '   ')}\n`);
    if (view.lastError && this.draft.length > 0) say('The list is kept: remove or add the rows the message is about.');
    for (;;) {
      if (this.draft.length > 0) write(`${this.draft.map((x, i) => `   ${String(i + 1).padStart(2)}. ${x.name} (${x.id}): ${x.roles.join(', ')}${x.keyFile ? ` · OpenPGP key ${x.keyFile}` : ''}`).join('\n')}\n`);
      const problems = roleProblems(roles, this.draft);
      const name = (await p.input({
        message: `Participant ${this.draft.length + 1} full name (empty to finish; 'remove N' removes row N):`,
        validate: (v) => {
          const t = v.trim();
          const rm = /^remove\s+(\d+)$/i.exec(t);
          if (rm) return Number(rm[1]) >= 1 && Number(rm[1]) <= this.draft.length ? true : `There is no row ${rm[1]}.`;
          if (!t) return problems.length === 0 || this.draft.length === 0 ? true : `Not yet: ${problems.join('; ')}.`;
          const unsafe = plainTextProblem(t, 'The name');
          if (unsafe) return unsafe;
          return this.draft.some((x) => x.name.toLowerCase() === t.toLowerCase()) ? `${t} is already checked in (row ${this.draft.findIndex((x) => x.name.toLowerCase() === t.toLowerCase()) + 1}).` : true;
        },
      })).trim();
      const rm = /^remove\s+(\d+)$/i.exec(name);
      if (rm) {
        this.draft.splice(Number(rm[1]) - 1, 1);
        continue;
      }
      if (!name) break;
      const suggested = name.split(/\s+/)[0].toLowerCase().replace(/[^a-z0-9._-]/g, '') || `p${this.draft.length + 1}`;
      const id = (await p.input({
        message: 'Short id (e.g. first name, lower case):',
        default: this.draft.some((x) => x.id === suggested) ? undefined : suggested,
        validate: (v) => {
          const t = v.trim();
          if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(t)) return 'An id is 1–32 lowercase letters, digits, dots, dashes or underscores (e.g. "alice").';
          return this.draft.some((x) => x.id === t) ? `The id '${t}' is taken; choose another.` : true;
        },
      })).trim();
      const roleList = await p.input({
        message: `Roles, comma-separated (${roles.map((r) => r.id).join(', ')}):`,
        validate: (v) => {
          const given = v.split(',').map((r) => r.trim()).filter(Boolean);
          if (given.length === 0) return 'Give at least one role.';
          const unknown = given.filter((r) => !roles.some((x) => x.id === r));
          return unknown.length ? `'${unknown[0]}' is not a role of this ceremony (${roles.map((r) => r.id).join(', ')}).` : true;
        },
      });
      const personRoles = [...new Set(roleList.split(',').map((r) => r.trim()).filter(Boolean))];
      const keyFile = personRoles.includes('custodian') ? await this.askKeyFile(p, name) : undefined;
      this.draft.push({ id, name, roles: personRoles, ...(keyFile ? { keyFile } : {}) });
    }
    return {
      kind: 'participants',
      participants: this.draft.map(({ keyFile, ...x }) => ({ ...x, roles: [...x.roles], ...(keyFile ? { openpgpKey: readFileSync(keyFile, 'utf8') } : {}) })),
    };
  }

  /** A custodian may bring an OpenPGP public key (a file on removable media): their share is then sealed to it. */
  private async askKeyFile(p: Prompts, name: string): Promise<string | undefined> {
    const file = (await p.input({
      message: `${name}'s OpenPGP public key file (.asc), to receive the share sealed instead of shown (empty: words on screen):`,
      validate: (v) => {
        const t = v.trim();
        if (!t) return true;
        try {
          const st = statSync(path.resolve(t));
          if (!st.isFile()) return `'${t}' is not a file.`;
          return st.size <= 64 * 1024 ? true : `'${t}' is ${st.size} bytes: too large for a public key (export it with gpg --export --armor KEYID).`;
        } catch {
          return `There is no file '${t}'. Check the medium is mounted and the path.`;
        }
      },
    })).trim();
    return file ? path.resolve(file) : undefined;
  }

  /** The fingerprint in groups and as words, read aloud; the custodian types its tail from their own device. */
  private async confirmFingerprint(p: Prompts, need: Extract<Need, { kind: 'openpgpConfirm' }>): Promise<StepInput> {
    const who = need.custodian.name;
    write(`\n   ${who}'s OpenPGP key: ${need.userIds.join('; ') || '(no user id)'} · ${need.algorithm}${need.expires ? ` · expires ${need.expires.slice(0, 10)}` : ''}\n`);
    write(`   Fingerprint: ${need.fingerprintGroups}\n`);
    write(`${wrapWords(`Read aloud: ${need.fingerprintWords.join(' ')}`, '   ')}\n`);
    say(`${who} compares it with their own device (gpg --fingerprint, or the card).`);
    const typed = (await p.input({
      message: `${who}, type the last ${need.tailLength} hex digits of the fingerprint as YOUR device shows them ('reject' if this is not your key):`,
      validate: (v) => {
        const t = v.trim().toLowerCase();
        if (t === 'reject') return true;
        return /^[0-9a-f\s:]+$/.test(t) && t.replace(/[\s:]/g, '').length === need.tailLength ? true : `Type ${need.tailLength} hex digits (0–9, A–F), or 'reject'.`;
      },
    })).trim();
    if (typed.toLowerCase() === 'reject') return { kind: 'openpgpReject' };
    return { kind: 'openpgpConfirm', typed };
  }

  // ------------------------------------------------------------------ sign-off

  private async signoff(p: Prompts, need: Extract<Need, { kind: 'signoff' }>, view: CeremonyView): Promise<StepInput> {
    const signed = new Set(need.signed.map((s) => s.personId));
    const eligible = view.participants.filter((x) => !signed.has(x.id) && x.roles.some((r) => (need.remaining[r] ?? 0) > 0));
    const remaining = Object.entries(need.remaining).map(([r, n]) => `${n} ${r}`).join(', ');
    write(`\n   Sign-off still needed from ${remaining}.\n${wrapWords(`By signing you attest: "${need.attestation}"`, '   ')}\n`);
    say(`Who may sign: ${eligible.map((x) => `${x.name} (${x.roles.join(', ')})`).join('; ')}.`);
    const person = await this.typedPerson(p, eligible, 'Type your full name or initials to sign (nothing is preselected):');
    const role = person.roles.find((r) => (need.remaining[r] ?? 0) > 0);
    return { kind: 'signoff', personId: person.id, role, typed: person.typed, method: person.method };
  }

  /** A person identifies themselves by typing their own name or initials; empty input re-asks. */
  private async typedPerson(p: Prompts, people: Participant[], message: string): Promise<Participant & { typed: string; method: 'typed-name' | 'typed-initials' }> {
    const match = (v: string) => {
      const t = v.trim().replace(/\s+/g, ' ').toLowerCase();
      const byName = people.filter((x) => x.name.toLowerCase() === t);
      if (byName.length === 1) return { person: byName[0], method: 'typed-name' as const };
      const byInitials = people.filter((x) => initials(x.name) === t.replace(/[\s.]/g, ''));
      if (byInitials.length === 1) return { person: byInitials[0], method: 'typed-initials' as const };
      return byInitials.length > 1 ? 'Those initials fit more than one person: type your full name.' : null;
    };
    const typed = await p.input({
      message,
      validate: (v) => {
        if (!v.trim()) return 'Nobody has signed yet: the person signing types their own name or initials.';
        const m = match(v);
        if (typeof m === 'string') return m;
        return m ? true : `'${v.trim()}' is not the name or initials of anyone who may sign here (${people.map((x) => x.name).join(', ')}).`;
      },
    });
    const m = match(typed) as { person: Participant; method: 'typed-name' | 'typed-initials' };
    return { ...m.person, typed: typed.trim(), method: m.method };
  }

  // ------------------------------------------------------------------ share hand-out

  private async handout(p: Prompts, need: Extract<Need, { kind: 'shareHandout' }>, view: CeremonyView): Promise<StepInput> {
    const who = need.custodian.name;
    if (need.sealed) return this.sealedHandout(p, need, need.sealed, view);
    if (need.phase === 'privacy') {
      for (;;) {
        const ready = await p.confirm({ message: `Share ${need.shareIndex} of ${need.of} for ${who}. Everyone except ${who} looks away. Ready?`, default: false });
        if (ready) return { kind: 'shareAck' };
        say(`Waiting: the share is not shown until only ${who} is looking.`);
      }
    }
    if (need.phase === 'reveal') {
      const share = view.revealedShare;
      if (!share) {
        // Not in this answer (shown once, never again without the privacy gate): ask again, recorded.
        say(`The share of ${who} is hidden. To see it again the room looks away again; that is recorded.`);
        await this.proceed(p, `Show share ${need.shareIndex} to ${who} again?`);
        return { kind: 'shareReshow' };
      }
      this.shareShown = true;
      write(`\n${wrapWords(`${share.header} · ${share.custodian}`, '   ')}\n\n${wordGrid(share.words)}\n\n`);
      for (;;) {
        const done = await p.confirm({ message: 'Written down, every word with its number? The screen is cleared next.', default: false });
        if (done) break;
        say('The share stays on screen. Take your time; answer y when it is written down.');
      }
      write(CLEAR_SCREEN_AND_SCROLLBACK);
      return { kind: 'shareAck' };
    }
    // Read-back: the words typed are cleared from the screen afterwards; the right ones are kept
    // when the core says which were wrong, so only those are asked again.
    const { positions, words, wrong } = this.readBackState(need, view);
    say(`${who}: read words back from your card (type 'show' to see the share again — the room looks away again, and it is recorded).`);
    for (const [i, pos] of positions.entries()) {
      if (words[i] && (wrong.size === 0 ? false : !wrong.has(pos + 1))) continue;
      const typed = (await p.input({ message: `${who}, enter word ${pos + 1} of your share:`, validate: (v) => (v.trim() ? true : 'Type the word from your card.') })).trim().toLowerCase();
      if (typed === 'show') {
        write(CLEAR_SCREEN_AND_SCROLLBACK);
        this.forget();
        return { kind: 'shareReshow' };
      }
      words[i] = typed;
    }
    write(CLEAR_SCREEN_AND_SCROLLBACK);
    return { kind: 'shareConfirm', words: [...words] };
  }

  /**
   * The words typed back so far for this share and the positions asked: kept across a mismatch
   * so that only the words the core marks wrong (`wrong`, 1-based) are asked again.
   */
  private readBackState(need: Extract<Need, { kind: 'shareHandout' }>, view: CeremonyView): { positions: number[]; words: string[]; wrong: Set<number> } {
    const positions = need.confirmPositions ?? [];
    const key = `${need.shareIndex}:${positions.join(',')}`;
    if (this.readBack?.key !== key) {
      this.forget();
      this.readBack = { key, words: positions.map(() => '') };
    }
    const wrong = new Set(((view.lastError?.code === 'SHARE_CONFIRM_MISMATCH' ? view.lastError.details?.positions : undefined) as number[] | undefined) ?? []);
    return { positions, words: this.readBack.words, wrong };
  }

  /**
   * A share sealed to the custodian's OpenPGP key: never on this screen. The file is written to the
   * folder given (the custodian's medium), then the custodian decrypts it on their own device and
   * types back the words asked for — or says they cannot, which voids the split (recorded).
   */
  private async sealedHandout(p: Prompts, need: Extract<Need, { kind: 'shareHandout' }>, sealed: NonNullable<Extract<Need, { kind: 'shareHandout' }>['sealed']>, view: CeremonyView): Promise<StepInput> {
    const who = need.custodian.name;
    if (need.phase === 'seal') {
      write(`\n   Share ${need.shareIndex} of ${need.of} for ${who} is sealed to their OpenPGP key ${sealed.fingerprintGroups}. It is never shown.\n`);
      const dir = (await p.input({ message: `Folder for ${who}'s sealed share (their removable medium):`, default: sealed.defaultDir, validate: (v) => (v.trim() ? true : 'Type a folder.') })).trim();
      return path.resolve(dir) === path.resolve(sealed.defaultDir) ? { kind: 'shareSeal' } : { kind: 'shareSeal', dir: path.resolve(dir) };
    }
    const file = sealed.file!;
    write(`\n   Sealed share for ${who}: ${file.path}\n   SHA-256 ${file.sha256}\n   Recipient ${sealed.fingerprintGroups}\n`);
    say(`${who} decrypts it on their own device (e.g. gpg --decrypt ${file.name}) and reads words back; type 'cannot' if it does not decrypt.`);
    const { positions, words, wrong } = this.readBackState(need, view);
    for (const [i, pos] of positions.entries()) {
      if (words[i] && (wrong.size === 0 ? false : !wrong.has(pos + 1))) continue;
      const typed = (await p.input({ message: `${who}, enter word ${pos + 1} of your decrypted share:`, validate: (v) => (v.trim() ? true : 'Type the word from your decrypted file.') })).trim().toLowerCase();
      if (typed === 'cannot') {
        this.forget();
        const sure = await p.confirm({ message: `${who} cannot decrypt the file? This split becomes void, every share handed out so far is destroyed, and a new split is made (${who} then receives words on screen).`, default: false });
        if (sure) return { kind: 'shareCannotDecrypt' };
        return this.sealedHandout(p, need, sealed, view);
      }
      words[i] = typed;
    }
    write(CLEAR_SCREEN_AND_SCROLLBACK);
    return { kind: 'shareConfirm', words: [...words] };
  }

  // ------------------------------------------------------------------ continue

  /** A plain step: Yes goes on, No pauses (nothing happens) and asks again. */
  private async proceed(p: Prompts, message: string): Promise<StepInput> {
    for (;;) {
      if (await p.confirm({ message, default: true })) return { kind: 'continue' };
      say('Paused: nothing was done. Answer y when the room is ready (Ctrl-C stops; the ceremony resumes here).');
    }
  }

  /** Making or destroying a key: default No, then the token label (and key id) typed exactly. */
  private async irreversible(p: Prompts, need: Extract<Need, { kind: 'continue' }>): Promise<StepInput> {
    const act = need.irreversible!;
    const what = act.act === 'generate' ? `generate a new ${act.keyType ?? ''} key on token '${act.tokenLabel}'`.replace('  ', ' ') : `DESTROY key ${act.keyId ?? '(unknown)'} on token '${act.tokenLabel}'`;
    write(`\n   ${wrapWords(`This cannot be undone: Keyrite will ${what}.`, '   ').trimStart()}\n`);
    for (;;) {
      const go = await p.confirm({ message: act.act === 'generate' ? 'Generate the key now?' : `Destroy ${act.keyId ?? 'the key'} now?`, default: false });
      if (!go) {
        say('Paused: nothing was done. Answer y when the quorum agrees (Ctrl-C stops; the ceremony resumes here).');
        continue;
      }
      if (act.keyId) {
        const typed = await p.input({ message: `Type the key id (${act.keyId}) to confirm, or nothing to go back:`, validate: (v) => (!v.trim() || v.trim() === act.keyId ? true : `That is not ${act.keyId}.`) });
        if (!typed.trim()) continue;
      }
      const label = await p.input({ message: `Type the token label (${act.tokenLabel}) to confirm, or nothing to go back:`, validate: (v) => (!v.trim() || v.trim() === act.tokenLabel ? true : `That is not '${act.tokenLabel}'.`) });
      if (label.trim()) return { kind: 'continue' };
    }
  }
}

/**
 * A tab or control character in a name or statement, refused at its own prompt (a name pasted from
 * a spreadsheet often brings a tab): the core would refuse the whole list or form after it was
 * typed, and the row list would print the character as it is.
 */
function plainTextProblem(value: string, what: string): string | null {
  const bad = firstUnsafeCharacter(value.trim());
  return bad ? `${what} contains ${describeCharacter(bad.codePoint)} at character ${bad.position}; type it again without it.` : null;
}

/** Role counts that check-in would refuse, as sentences. */
function roleProblems(roles: RoleSpec[], people: Participant[]): string[] {
  return roles.flatMap((r) => {
    const n = people.filter((x) => x.roles.includes(r.id)).length;
    return n < r.min || n > r.max ? [`${r.title}: ${n} checked in, ${roleBound(r)} needed`] : [];
  });
}

/**
 * What to say when the run stops at Ctrl-C (or Ctrl-D, SIGTERM, SIGHUP): where it stopped, how to resume, and, when a share of
 * the split was on screen, that the split is void (shares are never stored; a resumed ceremony
 * makes a new split and the shares written so far are destroyed).
 */
export function interruptedError(view: CeremonyView | null, shareShown: boolean, key: StopKey = 'Ctrl-C', unsubmitted = ''): KeyriteError {
  const cur = view?.current;
  const where = cur ? ` at step ${cur.index + 1} (${cur.title})` : '';
  const resume = view ? `keyrite ceremony resume ${view.ceremonyId}` : 'keyrite ceremony resume';
  const inHandout = cur?.need.kind === 'shareHandout';
  const sealedOnly = !shareShown && cur?.need.kind === 'shareHandout' && cur.need.sealed !== undefined && cur.need.shareIndex === 1;
  const voided = inHandout && (shareShown || (cur.need.kind === 'shareHandout' && (!['privacy', 'seal'].includes(cur.need.phase) || cur.need.shareIndex > 1)));
  const split = voided
    ? sealedOnly
      ? ' A share was sealed to a file, and shares are never stored: this split is now VOID. The sealed file of this run is removed when the ceremony resumes and makes a new backup with a new split.'
      : ' A share was handed out, and shares are never stored: this split is now VOID. Every custodian destroys the share written (or sealed file received) in this run; the resumed ceremony makes a new backup with a new split.'
    : inHandout
      ? ' No share was shown yet; the resumed ceremony makes the backup again with a new split.'
      : '';
  return new KeyriteError('CEREMONY_INTERRUPTED', `Stopped by ${describeStop(key)}${where}; the screen was cleared. Everything up to the last answer is saved.${unsubmitted}${split} Resume with \`${resume}\`.`, {
    details: { ceremonyId: view?.ceremonyId ?? null, step: cur?.index ?? null, splitVoid: Boolean(voided), stoppedBy: key },
  });
}

/** Inquirer's way of saying the person pressed Ctrl-C at a prompt. */
export function isPromptInterrupt(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError');
}

/** For callers that asked one question at a time before the driver existed. */
export async function askTerminal(view: CeremonyView): Promise<StepInput | null> {
  return new TerminalDriver().ask(view);
}

/** What is wrong with one typed bag serial, checked as it is typed (the core checks again). */
export function bagRowProblem(serial: string, shareIndex: number, rows: ReadonlyArray<{ shareIndex: number; custodian: string }>, typed: Record<number, string>): string | null {
  if (!serial) return `Type the serial on the bag of share ${shareIndex}.`;
  if (!SERIAL_PATTERN.test(serial)) return `A bag serial is ${SERIAL_HINT}.`;
  const same = rows.find((r) => r.shareIndex !== shareIndex && typed[r.shareIndex]?.toUpperCase() === serial.toUpperCase());
  return same ? `That is the bag of share ${same.shareIndex} (${same.custodian}); every share has its own bag.` : null;
}
