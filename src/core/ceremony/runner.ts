import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KeyriteError, isKeyriteError } from '../errors';
import { errorMeta } from '../error-codes';
import { requirePlainText } from '../text/plain-text';
import { fileSystemError } from '../fs/fs-errors';
import { prepareOutputDir } from '../fs/output-dir';
import { connectHsm, type HsmConnection } from '../hsm/connect';
import type { HsmSession } from '../hsm/session';
import { crashPoint } from '../fault';
import { CeremonyRepository, type CeremonyStatus, type SealRecord } from '../store/ceremonies';
import type { Store } from '../store/db';
import { destroyTranscriptKey, makeEventLine, signTranscriptText, transcriptKeyLabel, verifyBundle, writeSealedBundle, type EventType, type TranscriptEvent, type TranscriptSigner, type WrittenBundle } from '../transcript';
import { hexToPgpWords } from '../transcript/pgp-words';
import { HANDLERS } from './actions';
import { shareCardForReveal } from './actions/shares';
import { killHereForCrashTest } from './fault';
import { userPinNeed, type ActionContext, type CeremonyState, type PendingEvent, type RunnerDeps } from './context';
import { errorEventData } from './error-event';
import { CeremonySecrets } from './secrets';
import { resolveParameters, type Parameters } from './parameters';
import { attestationFor, signoffMethod } from './signoff-act';
import { roleSpecs, type CeremonyScript, type LoadedScript, type ScriptStep } from './script';
import type { CeremonyView, Need, Participant, ShareCard, SignoffMethod, StepInput, StepStatus } from './types';

export interface StartOptions {
  /** The new ceremony's id (see newCeremonyId); the caller holds its lock before it starts. */
  id: string;
  loaded: LoadedScript;
  outDir: string;
  parameters?: Record<string, unknown>;
  demo?: boolean;
  tokenLabel?: string;
}

/** A new ceremony's id: date, script id and 24 random bits. */
export function newCeremonyId(now: Date, scriptId: string): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${scriptId}-${randomBytes(3).toString('hex')}`;
}

/** The runner as the store last saw it; memory returns to this whenever a step is not saved. */
interface Committed {
  state: string;
  index: number;
  status: CeremonyStatus;
  head: TranscriptEvent | null;
  version: number;
}

/** Pending emits made into the next events of the chain, each with its transcript.jsonl line. */
interface Chained {
  events: TranscriptEvent[];
  lines: string[];
}

/**
 * The ceremony state machine. A step runs its action (if any), then collects the sign-offs its
 * script asks for, then completes. Every change is written with its transcript events in one
 * sqlite transaction (a compare-and-set on the state version) before the runner moves on, so a
 * crash resumes exactly where it stopped. If a write fails, memory goes back to the last saved
 * state and the runner stops: nothing more is shown or done until the ceremony is resumed.
 */
export class CeremonyRunner {
  private head: TranscriptEvent | null;
  private pending: PendingEvent[] = [];
  private commitHooks: Array<(tx: Store) => Promise<void>> = [];
  private lastError: CeremonyView['lastError'] = null;
  private readonly secrets = new CeremonySecrets();
  private readonly repo: CeremonyRepository;
  private committed: Committed;
  private halted: KeyriteError | null = null;
  /** Bundle files a resume of a sealed ceremony had to write (empty: the bundle was complete). */
  bundleRepaired: string[] = [];
  /** The seal is committed but writing its bundle failed; 'continue' tries again. */
  private bundleUnwritten = false;

  private constructor(
    private readonly deps: RunnerDeps,
    readonly id: string,
    readonly script: CeremonyScript,
    readonly params: Parameters,
    private state: CeremonyState,
    private status: CeremonyStatus,
    private index: number,
    readonly outDir: string,
    readonly demo: boolean,
    head: TranscriptEvent | null,
    private stateVersion: number,
  ) {
    this.head = head;
    this.repo = new CeremonyRepository(deps.store);
    this.committed = this.snapshot();
  }

  // ---------------------------------------------------------------- lifecycle

  static async start(deps: RunnerDeps, opts: StartOptions): Promise<CeremonyRunner> {
    const { loaded, id } = opts;
    const { values, warnings } = resolveParameters(loaded.script, opts.parameters ?? {}, deps.policy);
    const outDir = path.resolve(opts.outDir);
    prepareOutDir(outDir);
    const now = deps.now();
    const state: CeremonyState = {
      tokenLabel: opts.tokenLabel ?? (typeof values.targetToken === 'string' ? values.targetToken : deps.hsm.tokenLabel),
      participants: [],
      phase: 'action',
      actionState: {},
      evidence: null,
      signoffs: [],
      keys: {},
      handedOut: [],
      collected: [],
      artifacts: {},
    };
    const runner = new CeremonyRunner(deps, id, loaded.script, values, state, 'running', 0, outDir, opts.demo === true, null, 1);
    runner.state.phase = runner.phaseFor(loaded.script.steps[0]);
    runner.emit('CEREMONY_STARTED', {
      scriptId: loaded.script.id,
      scriptVersion: loaded.script.version,
      scriptSha256: loaded.sha256,
      scriptFile: path.basename(loaded.file),
      title: loaded.script.title,
      parameters: values,
      policy: deps.policy.source,
      policyWarnings: warnings,
      steps: loaded.script.steps.map((s) => ({ id: s.id, title: s.title, say: s.say.trim(), action: s.action ?? null, confirm: s.confirm ?? {} })),
      roles: roleSpecs(loaded.script),
      appVersion: deps.appVersion,
      demo: runner.demo,
      // Run on the embedded demo token (a rehearsal or not): its keys are never real ones, and
      // transcript.html and verify flag the bundle as DEMO.
      demoToken: deps.hsm.demo === true,
      tokenLabel: state.tokenLabel,
      outDir,
    });
    runner.emitStepStarted();
    const { events, lines } = runner.chainPending();
    await deps.store.transaction((tx) =>
      runner.repo.create(tx, {
        id, scriptId: loaded.script.id, scriptVersion: loaded.script.version, scriptSha256: loaded.sha256, scriptPath: loaded.file, title: loaded.script.title,
        parameters: values, state: runner.state, outDir, demo: runner.demo, steps: loaded.script.steps.map((s) => ({ id: s.id, title: s.title })), at: now.toISOString(),
      }, events, lines),
    );
    runner.pending = [];
    runner.head = events[events.length - 1] ?? null;
    runner.committed = runner.snapshot();
    await runner.skipInactiveSteps();
    return runner;
  }

  /**
   * The ceremony as the store has it. A running one records CEREMONY_RESUMED; a sealed one gets
   * no event (nothing follows the seal) but its bundle is completed from the store if a crash cut
   * the writing short, and verified.
   */
  static async load(deps: RunnerDeps, id: string, loadScriptFile: (file: string) => LoadedScript): Promise<CeremonyRunner> {
    const repo = new CeremonyRepository(deps.store);
    const row = await repo.get<CeremonyState>(id);
    if (!row) throw new KeyriteError('CEREMONY_NOT_FOUND', `No ceremony with id '${id}' is in the store. Run \`keyrite ceremony status\` to list ceremonies.`, { details: { id } });
    const loaded = loadScriptFile(row.scriptPath);
    if (loaded.sha256 !== row.scriptSha256) {
      throw new KeyriteError('CEREMONY_SCRIPT_CHANGED', `The script of ceremony '${id}' (${row.scriptPath}) changed since the ceremony started (SHA-256 ${loaded.sha256.slice(0, 16)}… instead of ${row.scriptSha256.slice(0, 16)}…). Restore the original script to resume; a ceremony cannot change its script midway.`, { details: { id } });
    }
    const head = await repo.lastEvent(id);
    const runner = new CeremonyRunner(deps, id, loaded.script, row.parameters as Parameters, row.state, row.status, row.currentStep, row.outDir, row.demo, head, row.stateVersion);
    if (row.status === 'sealed' || head?.type === 'CEREMONY_SEALED') {
      runner.bundleRepaired = (await runner.writeBundle()).written;
    } else if (row.status === 'running') {
      runner.emit('CEREMONY_RESUMED', { step: runner.currentStep?.id ?? null, index: runner.index, phase: runner.state.phase });
      await runner.commit();
    }
    return runner;
  }

  /** Closes the HSM session. The ceremony stays resumable. */
  close(): void {
    this.secrets.zeroize();
  }

  // ---------------------------------------------------------------- queries

  get currentStep(): ScriptStep | undefined {
    return this.status === 'running' ? this.script.steps[this.index] : undefined;
  }

  get ceremonyStatus(): CeremonyStatus {
    return this.status;
  }

  /**
   * Where the ceremony stands. The share of a hand-out is included only with `showShare` (the
   * answer to the input that revealed it): a later view (navigation, reload, the witness window)
   * never shows it again; the custodian asks for a re-show, which goes back through the privacy gate.
   */
  async view(opts: { showShare?: boolean } = {}): Promise<CeremonyView> {
    if (this.halted) throw this.halted;
    const step = this.currentStep;
    let current: CeremonyView['current'] = null;
    let revealedShare: CeremonyView['revealedShare'];
    if (step) {
      const need = await this.currentNeed(step);
      let evidence = this.state.evidence;
      const handler = step.action ? HANDLERS[step.action] : undefined;
      if (!evidence && handler?.preview) evidence = await handler.preview(this.context(step));
      current = {
        index: this.index,
        id: step.id,
        title: step.title,
        say: step.say.trim(),
        action: step.action ?? null,
        confirm: step.confirm ?? {},
        need,
        evidence,
      };
      if (opts.showShare && need.kind === 'shareHandout' && need.phase === 'reveal') {
        const share = this.secrets.issued?.find((s) => s.index === need.shareIndex);
        if (share) revealedShare = { custodian: share.custodian, header: share.header, words: [...share.words] };
      }
    }
    return {
      ceremonyId: this.id,
      scriptId: this.script.id,
      title: this.script.title,
      status: this.status,
      demo: this.demo,
      outDir: this.outDir,
      participants: this.state.participants,
      steps: this.script.steps.map((s, i) => ({
        index: i,
        id: s.id,
        title: s.title,
        action: s.action ?? null,
        status: stepStatus(this.status, i, this.index),
      })),
      current,
      revealedShare,
      chainHead: { seq: this.head?.seq ?? 0, hash: this.head?.hash ?? '0'.repeat(64) },
      lastError: this.lastError,
      sealed: this.state.sealed,
    };
  }

  private async currentNeed(step: ScriptStep): Promise<Need> {
    if (this.state.phase === 'signoff' || this.state.phase === 'signoffFirst') return this.signoffNeed(step);
    const handler = step.action ? HANDLERS[step.action] : undefined;
    if (!handler) return { kind: 'continue', message: 'Read the text aloud, then continue.' };
    const ctx = this.context(step);
    if (handler.requiresLogin && !this.isLoggedIn()) return userPinNeed(this.state.tokenLabel, this.demo);
    const need = await handler.need(ctx);
    if (need) return need;
    const irreversible = handler.irreversible ? await handler.irreversible(ctx) : null;
    return { kind: 'continue', message: handler.continueMessage?.(ctx) ?? `Continue to ${step.title.toLowerCase()}.`, ...(irreversible ? { irreversible } : {}) };
  }

  private signoffNeed(step: ScriptStep): Need {
    const remaining: Record<string, number> = {};
    for (const [role, n] of Object.entries(step.confirm ?? {})) {
      const done = this.state.signoffs.filter((s) => s.role === role).length;
      if (n - done > 0) remaining[role] = n - done;
    }
    return { kind: 'signoff', remaining, signed: [...this.state.signoffs], attestation: attestationFor(step, this.index, this.state.phase === 'signoffFirst') };
  }

  private isLoggedIn(): boolean {
    return this.secrets.conn?.session.isLoggedIn === 'user';
  }

  // ---------------------------------------------------------------- input

  /**
   * Apply one input. Problems a person can fix (wrong PIN, mistyped word, missing quorum) come
   * back as `lastError` in the view and change nothing else; programming errors throw.
   */
  async provide(input: StepInput): Promise<CeremonyView> {
    this.lastError = null;
    const step = this.currentStep;
    if (this.halted) throw this.halted;
    if (!step && this.status === 'sealed' && this.bundleUnwritten && input.kind === 'continue') return this.retryBundle();
    if (!step) throw this.notRunning('takes no more input');
    this.secrets.noteInput(input);
    try {
      await this.apply(step, input);
    } catch (caught) {
      // Whatever the step did in memory and did not save is undone: memory is the store again.
      this.restoreCommitted();
      if (this.halted) throw this.stop();
      const e = fileSystemError(caught) ?? caught;
      if (!isKeyriteError(e) || errorMeta(e.code).fixedBy === 'developer') throw e;
      this.lastError = { code: e.code, message: e.message, details: e.details };
      if (errorMeta(e.code).endsHsmSession) {
        // The token may be gone or reset: drop the session so the next attempt logs in afresh.
        this.secrets.conn?.close();
        this.secrets.conn = undefined;
      }
      // Once CEREMONY_SEALED is in the chain nothing may follow it; the error is shown, not recorded.
      // The message may quote what was typed (a share word, a suggestion): the event gets codes and positions.
      if (this.status === 'running') await this.recordError(step.id, e);
    }
    return this.view({ showShare: true });
  }

  /** Sealed, but the bundle could not be written (say, the output medium was full): write it again, no event. */
  private async retryBundle(): Promise<CeremonyView> {
    try {
      this.bundleRepaired = (await this.writeBundle()).written;
      this.bundleUnwritten = false;
    } catch (e) {
      const err = e as KeyriteError;
      this.lastError = { code: err.code, message: err.message, details: err.details };
    }
    return this.view();
  }

  /** True once a store write failed: the runner does nothing more; the ceremony is resumed from the store. */
  get isHalted(): boolean {
    return this.halted !== null;
  }

  private notRunning(what: string): KeyriteError {
    if (this.status === 'sealed') {
      return new KeyriteError('CEREMONY_ALREADY_SEALED', `Ceremony '${this.id}' is sealed and ${what}: nothing can be added after the seal. Its bundle is in ${this.outDir}.`, { details: { id: this.id } });
    }
    return new KeyriteError('CEREMONY_NOT_RUNNING', `Ceremony '${this.id}' is ${this.status}; it ${what}.`, { details: { id: this.id } });
  }

  private async apply(step: ScriptStep, input: StepInput): Promise<void> {
    if (this.state.phase === 'signoff' || this.state.phase === 'signoffFirst') {
      if (input.kind !== 'signoff') throw unexpected(input, 'a sign-off');
      await this.signoff(step, input.personId, input.role, input);
      return;
    }
    const handler = step.action ? HANDLERS[step.action] : undefined;
    if (!handler) {
      if (input.kind !== 'continue') throw unexpected(input, 'continue');
      await this.actionDone(step);
      return;
    }
    const ctx = this.context(step);
    if (handler.requiresLogin && !this.isLoggedIn()) {
      if (input.kind !== 'pin') throw unexpected(input, 'the PIN');
      this.login(input.pin);
      this.emit('HSM_LOGIN', { tokenLabel: this.connection().session.token.label, tokenSerial: this.connection().session.token.serial, user: 'user', relogin: true });
      await this.commit();
      return;
    }
    const need = await handler.need(ctx);
    let outcome: 'done' | 'pending';
    if (need === null || need.kind === 'continue') {
      if (input.kind !== 'continue') throw unexpected(input, 'continue');
      outcome = handler.run ? await handler.run(ctx) : 'done';
    } else {
      if (input.kind !== need.kind && !(need.kind === 'shareHandout' && (input.kind === 'shareAck' || input.kind === 'shareConfirm' || input.kind === 'shareReshow' || input.kind === 'shareSeal' || input.kind === 'shareCannotDecrypt')) && !(need.kind === 'openpgpConfirm' && input.kind === 'openpgpReject') && !(need.kind === 'shareEntry' && input.kind === 'share')) {
        throw unexpected(input, need.kind);
      }
      if (!handler.provide) throw new KeyriteError('INTERNAL_NO_PROVIDE', `Action ${step.action} cannot take input.`);
      outcome = await handler.provide(ctx, input);
    }
    killHereForCrashTest(step.id);
    // The seal committed the ceremony's end itself.
    if (this.status === 'sealed') return this.close();
    if (outcome === 'done') await this.actionDone(step);
    else await this.commit();
  }

  private async actionDone(step: ScriptStep): Promise<void> {
    const quorum = Object.values(step.confirm ?? {}).reduce((a, b) => a + b, 0);
    if (quorum > 0 && this.state.phase === 'action' && !signoffFirst(step)) {
      this.state.phase = 'signoff';
      await this.commit();
      return;
    }
    await this.completeStep(step);
  }

  private async signoff(step: ScriptStep, personId: string, roleHint?: string, act: { method?: SignoffMethod; typed?: string } = {}): Promise<void> {
    const person = this.state.participants.find((p) => p.id === personId);
    if (!person) {
      throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', `Nobody with id '${personId}' checked in to this ceremony. Participants: ${this.state.participants.map((p) => p.id).join(', ') || 'none yet'}.`, { details: { personId } });
    }
    if (this.state.signoffs.some((s) => s.personId === personId)) {
      throw new KeyriteError('CEREMONY_SIGNOFF_DUPLICATE', `${person.name} already signed off step '${step.title}'. The quorum needs a different person.`, { details: { personId } });
    }
    const need = this.signoffNeed(step);
    if (need.kind !== 'signoff') throw new KeyriteError('INTERNAL_SIGNOFF', 'no sign-off due');
    const eligible = person.roles.filter((r) => (need.remaining[r] ?? 0) > 0);
    const role = roleHint ? (eligible.includes(roleHint) ? roleHint : undefined) : eligible[0];
    if (!role) {
      const wanted = Object.keys(need.remaining).join(' or ');
      const an = (w: string): string => (/^[aeiou]/i.test(w) ? `an ${w}` : `a ${w}`);
      if (roleHint && !person.roles.includes(roleHint)) {
        throw new KeyriteError('CEREMONY_SIGNOFF_ROLE', `${person.name} checked in as ${person.roles.join(', ')}, not as ${roleHint}, so cannot sign off step '${step.title}' as ${roleHint}. ${eligible.length > 0 ? `Sign as ${eligible.join(' or ')} instead.` : `The step still needs ${an(wanted)}.`}`, { details: { personId, roleHint, roles: person.roles, remaining: need.remaining } });
      }
      if (roleHint) {
        throw new KeyriteError('CEREMONY_SIGNOFF_ROLE', `Step '${step.title}' has all the ${roleHint} sign-offs it needs; it still needs ${an(wanted)}${eligible.length > 0 ? `, which ${person.name} can give` : ''}.`, { details: { personId, roleHint, roles: person.roles, remaining: need.remaining } });
      }
      throw new KeyriteError('CEREMONY_SIGNOFF_ROLE', `${person.name} (${person.roles.join(', ')}) cannot sign off step '${step.title}': it still needs a ${wanted}.`, { details: { personId, remaining: need.remaining } });
    }
    const method = signoffMethod(person, act);
    this.state.signoffs.push({ personId, name: person.name, role });
    this.emit('STEP_CONFIRMED', { index: this.index, personId, name: person.name, role, method, attestation: need.attestation }, personId);
    const left = this.signoffNeed(step);
    const complete = left.kind === 'signoff' && Object.keys(left.remaining).length === 0;
    if (!complete) {
      await this.commit();
      return;
    }
    if (this.state.phase === 'signoffFirst') {
      this.state.phase = 'action';
      await this.commit();
      return;
    }
    await this.completeStep(step);
  }

  private async completeStep(step: ScriptStep): Promise<void> {
    this.emit('STEP_COMPLETED', { index: this.index, title: step.title, signoffs: this.state.signoffs.map((s) => `${s.personId}:${s.role}`), evidence: this.state.evidence ?? {} });
    this.index += 1;
    this.state.actionState = {};
    this.state.evidence = null;
    this.state.signoffs = [];
    const next = this.script.steps[this.index];
    if (next) {
      this.state.phase = this.phaseFor(next);
      this.emitStepStarted();
    }
    await this.commit();
    await this.skipInactiveSteps();
  }

  /** Steps whose `when` parameter is false complete at once, recorded as skipped. */
  private async skipInactiveSteps(): Promise<void> {
    for (;;) {
      const step = this.currentStep;
      if (!step?.when || this.params[step.when] === true) return;
      this.state.evidence = { skipped: true, reason: `parameter ${step.when} is not true` };
      this.state.signoffs = [];
      this.state.phase = 'action';
      await this.completeStep({ ...step, confirm: {} });
    }
  }

  private phaseFor(step: ScriptStep): CeremonyState['phase'] {
    const quorum = Object.values(step.confirm ?? {}).reduce((a, b) => a + b, 0);
    return signoffFirst(step) && quorum > 0 ? 'signoffFirst' : 'action';
  }

  private emitStepStarted(): void {
    const step = this.script.steps[this.index];
    this.emit('STEP_STARTED', { index: this.index, id: step.id, title: step.title, say: step.say.trim(), action: step.action ?? null });
  }

  /**
   * The share on screen as a printable card, rendered in memory, with SHARE_CARD_PRINTED committed
   * before the caller prints it. Refused outside the reveal phase of a hand-out, and in a hand-out
   * step whose script does not allow cards. The html is the caller's to print and drop.
   */
  async printShareCard(): Promise<ShareCard> {
    const step = this.currentStep;
    if (this.halted) throw this.halted;
    if (!step) {
      throw new KeyriteError('SHARE_CARD_UNAVAILABLE', `Ceremony '${this.id}' is ${this.status}; a share card can be printed only while a share is shown during its hand-out.`);
    }
    const need = await this.currentNeed(step);
    let card: ShareCard;
    try {
      card = await shareCardForReveal(this.context(step), need.kind === 'shareHandout' ? need.phase : null);
      await this.commit();
    } catch (e) {
      // Not printed, so not recorded later either.
      this.restoreCommitted();
      throw this.halted ? this.stop() : e;
    }
    return card;
  }

  /**
   * Abort is an explicit, recorded act by a checked-in person. Before anyone has checked in there
   * is nobody to check against: the abort is then recorded with the name given and
   * `checkedIn: false`, so the transcript does not claim a participant decided it.
   */
  async abort(reason: string, personId: string): Promise<CeremonyView> {
    if (this.halted) throw this.halted;
    if (this.status !== 'running') throw this.notRunning('cannot be aborted');
    if (!reason.trim()) throw new KeyriteError('CEREMONY_ABORT_REASON', 'Say why the ceremony is aborted; the reason goes into the transcript.');
    requirePlainText(reason, 'The reason for aborting', 'CEREMONY_ABORT_REASON');
    requirePlainText(personId, 'The name of who aborts', 'CEREMONY_PERSON_UNKNOWN');
    const checkedIn = this.state.participants.length > 0;
    const person = this.state.participants.find((p) => p.id === personId);
    if (checkedIn && !person) {
      throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', `Nobody with id '${personId}' checked in to this ceremony; only a participant can abort it. Give the id of one of: ${this.state.participants.map((p) => `${p.id} (${p.name})`).join(', ')}.`, { details: { personId } });
    }
    if (!personId.trim()) throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', 'Say who decided to abort the ceremony; the name goes into the transcript.');
    this.emit('CEREMONY_ABORTED', { reason: reason.trim(), personId, name: person?.name ?? null, checkedIn: person !== undefined, step: this.currentStep?.id ?? null, index: this.index }, person ? person.id : null);
    this.status = 'aborted';
    try {
      await this.commit();
    } catch {
      throw this.stop();
    }
    this.close();
    return this.view();
  }

  // ---------------------------------------------------------------- HSM

  connection(): HsmConnection {
    if (!this.secrets.conn) {
      // A URI's serial/model select the configured token only, not a drill's target token.
      const token = this.state.tokenLabel === this.deps.hsm.tokenLabel ? this.deps.hsm.token : undefined;
      try {
        this.secrets.conn = connectHsm({ ...this.deps.hsm, tokenLabel: this.state.tokenLabel, token }, { factory: this.deps.pkcs11Factory });
      } catch (e) {
        // Mid-ceremony the token cannot be swapped for another label: say what can be done now.
        if (!isKeyriteError(e, 'HSM_TOKEN_NOT_FOUND')) throw e;
        throw new KeyriteError('HSM_TOKEN_NOT_FOUND', `Token '${this.state.tokenLabel}', which this ceremony uses, is not present (tokens present: ${presentTokens(e)}). Insert it and continue; a ceremony cannot move to another token midway. If it is lost, a checked-in participant aborts the ceremony with its reason.`, { details: e.details, cause: e });
      }
    }
    return this.secrets.conn;
  }

  login(pin: string): HsmSession {
    const conn = this.connection();
    conn.session.login(pin, 'user');
    return conn.session;
  }

  // ---------------------------------------------------------------- persistence

  /** Events are stamped with the step running when they happen, not when they are written. */
  emit(type: EventType, data: Record<string, unknown>, actor: string | null = null): void {
    this.pending.push({ type, data, actor, step: this.script.steps[this.index]?.id ?? null });
  }

  /** The pending emits as the next events of the chain (nothing is written; the head does not move). */
  private chainPending(): Chained {
    const out: Chained = { events: [], lines: [] };
    let head = this.head;
    for (const p of this.pending) {
      const made = makeEventLine(head, {
        at: this.deps.now().toISOString(),
        ceremony: this.id,
        step: p.step !== undefined ? p.step : (this.script.steps[this.index]?.id ?? null),
        actor: p.actor ?? null,
        type: p.type,
        data: p.data,
      });
      head = made.event;
      out.events.push(made.event);
      out.lines.push(made.line);
    }
    return out;
  }

  /**
   * Write pending events, the state, the step index and status, plus any store work, in ONE
   * transaction that only succeeds if nobody saved this ceremony since this runner last did. On
   * failure nothing is written, memory returns to the last saved state and the runner stops.
   */
  async commit(extra?: (tx: Store) => Promise<void>): Promise<void> {
    await this.persist(this.chainPending(), extra);
  }

  private async persist({ events, lines }: Chained, extra?: (tx: Store) => Promise<void>, seal?: SealRecord): Promise<void> {
    if (this.halted) throw this.halted;
    // The last gate before the disk: an event with a secret this ceremony has seen is refused. Not a
    // store failure, so the runner does not stop: memory is the store again and the person retries.
    try {
      for (const e of events) this.secrets.check(e);
    } catch (leak) {
      this.restoreCommitted();
      throw leak;
    }
    const hooks = this.commitHooks;
    this.commitHooks = [];
    // Serialized once: the store row and the in-memory snapshot are the same text.
    const stateJson = JSON.stringify(this.state);
    crashPoint('commit:before');
    try {
      this.stateVersion = await this.deps.store.transaction(async (tx) => {
        const version = await this.repo.save(tx, {
          id: this.id, expectedVersion: this.stateVersion, events, lines, state: this.state, stateJson, currentStep: this.index, status: this.status, at: this.deps.now().toISOString(),
          from: { currentStep: this.committed.index, status: this.committed.status },
        });
        if (seal) await this.repo.saveSeal(tx, seal);
        for (const hook of hooks) await hook(tx);
        if (extra) await extra(tx);
        return version;
      });
    } catch (e) {
      this.restoreCommitted();
      const cause = isKeyriteError(e) ? e : new KeyriteError('STORE_ERROR', `Keyrite could not save ceremony '${this.id}' (${e instanceof Error ? e.message : String(e)}).`, { cause: e });
      this.halted = new KeyriteError(cause.code, `${cause.message} Ceremony ${this.id} stopped at its last saved point (${this.whereNow()}); nothing after it was shown or recorded. Fix the problem, then resume with \`keyrite ceremony resume ${this.id}\`.`, { details: { ...(cause.details ?? {}), ceremonyId: this.id, stopped: true }, cause });
      throw this.halted;
    }
    this.pending = [];
    if (events.length > 0) this.head = events[events.length - 1];
    this.committed = this.snapshot(stateJson);
    crashPoint('commit:after');
  }

  private snapshot(stateJson = JSON.stringify(this.state)): Committed {
    return { state: stateJson, index: this.index, status: this.status, head: this.head, version: this.stateVersion };
  }

  /** Back to what the store holds: the state, position and chain head of the last commit. */
  private restoreCommitted(): void {
    const c = this.committed;
    this.state = JSON.parse(c.state) as CeremonyState;
    this.index = c.index;
    this.status = c.status;
    this.head = c.head;
    this.stateVersion = c.version;
    this.pending = [];
    this.commitHooks = [];
  }

  private whereNow(): string {
    const step = this.script.steps[this.index];
    return step ? `step ${this.index + 1} of ${this.script.steps.length}, ${step.title}` : this.status;
  }

  /** After a failed write: drop every secret and the HSM session; the halted error says how to go on. */
  private stop(): KeyriteError {
    this.close();
    return this.halted!;
  }

  /**
   * Seal, phase 1: CEREMONY_SEALED is chained after anything pending, the whole transcript is
   * signed by the transcript key and the signature checked, then the event, the signature and the
   * sealed status are committed in ONE transaction. Phase 2 writes the bundle from the store
   * (writeBundle), which a resume repeats if a crash cut it short. No event ever follows.
   */
  async seal(signer: TranscriptSigner, data: Record<string, unknown>): Promise<void> {
    if (this.status !== 'running') throw this.notRunning('cannot be sealed again');
    // The committed chain's lines as stored (not parsed and serialized again): signTranscriptText
    // checks every line as verify will, and returns the events read from them.
    const stored = await this.repo.lines(this.id);
    this.emit('CEREMONY_SEALED', { events: stored.length + this.pending.length + 1, ...data });
    const fresh = this.chainPending();
    let text = '';
    for (const line of [...stored, ...fresh.lines]) text += line + '\n';
    const { transcript, events, ...signed } = await signTranscriptText(text, signer);
    crashPoint('seal:signed');
    this.state.sealed = { finalHash: signed.finalHash, finalHashWords: hexToPgpWords(signed.finalHash), keyFingerprintWords: hexToPgpWords(signed.spkiSha256), bundle: this.outDir };
    this.status = 'sealed';
    this.index = this.script.steps.length;
    const record: SealRecord = { ceremonyId: this.id, ...signed, sealedAt: this.deps.now().toISOString() };
    await this.persist(fresh, undefined, record);
    crashPoint('seal:committed');
    // One-time key (CEREMONY_SEALED says so): its signature is checked and committed, so it goes now.
    // Should the token refuse, the bundle is still written and the refusal then reported.
    let keyLeft: unknown = null;
    try {
      destroyTranscriptKey(this.connection().session, this.id);
    } catch (e) {
      keyLeft = e;
    }
    this.bundleUnwritten = true;
    // Exactly what was just committed: the chain read above plus the new events, and the seal
    // record; with the transcript's bytes just signed (the same events, serialized once).
    await this.writeBundle({ seal: record, events, transcript });
    this.bundleUnwritten = false;
    if (keyLeft) throw transcriptKeyLeft(this.id, keyLeft);
  }

  /**
   * Seal, phase 2: the bundle's files from the committed seal record, then verified as `keyrite
   * verify` would. `committed` is the record and chain the caller has just committed (the seal
   * itself); without it (a resume, a retry) both are read from the store.
   */
  private async writeBundle(committed?: { seal: SealRecord; events: TranscriptEvent[]; transcript: Buffer }): Promise<WrittenBundle> {
    const seal = committed?.seal ?? (await this.repo.seal(this.id));
    if (!seal) {
      throw new KeyriteError('CEREMONY_SEAL_UNRECORDED', `Ceremony '${this.id}' ends with CEREMONY_SEALED but the store holds no signature for it (it was sealed by an older Keyrite that did not record one). Its bundle cannot be completed from the store; keep the store and the token for investigation.`, { details: { id: this.id } });
    }
    try {
      const written = await writeSealedBundle({ dir: this.outDir, events: committed?.events ?? (await this.repo.events(this.id)), seal, transcript: committed?.transcript });
      await verifyBundle(this.outDir);
      return written;
    } catch (e) {
      // The cause keeps its own code (OUTPUT_DISK_FULL, BUNDLE_FILE_CHANGED…); the sentence says the seal is safe.
      const cause = fileSystemError(e) ?? e;
      const code = isKeyriteError(cause) ? cause.code : 'CEREMONY_BUNDLE_INCOMPLETE';
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new KeyriteError(code, `Ceremony '${this.id}' is sealed (its signed transcript is saved), but its bundle in '${this.outDir}' could not be completed: ${why} Fix that, then continue, or run \`keyrite ceremony resume ${this.id}\`, to write the missing files.`, { details: { ...(isKeyriteError(cause) ? cause.details : {}), id: this.id, dir: this.outDir, sealed: true }, cause });
    }
  }

  /**
   * ERROR_RECORDED for a problem the person can fix. Should even its code-and-positions form be
   * refused by the guard, the bare code is recorded; an error is never lost, a secret never written.
   */
  private async recordError(stepId: string, e: KeyriteError): Promise<void> {
    for (const data of [errorEventData(stepId, e), { step: stepId, code: e.code, redacted: true }]) {
      this.emit('ERROR_RECORDED', data);
      try {
        await this.commit();
        return;
      } catch (refused) {
        // A failed store write stops the runner; a refusal by the secret guard tries the bare code.
        if (this.halted || !isKeyriteError(refused, 'TRANSCRIPT_SECRET_LEAK')) throw this.halted ? this.stop() : refused;
      }
    }
  }

  async events(): Promise<TranscriptEvent[]> {
    return this.repo.events(this.id);
  }

  private context(step: ScriptStep): ActionContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const runner = this;
    return {
      ceremonyId: this.id,
      script: this.script,
      step,
      params: this.params,
      get state() {
        return runner.state;
      },
      outDir: this.outDir,
      demo: this.demo,
      deps: this.deps,
      secrets: this.secrets,
      now: () => this.deps.now(),
      session: () => {
        if (!this.isLoggedIn()) throw new KeyriteError('HSM_NOT_LOGGED_IN', `Nobody is logged in to token '${this.state.tokenLabel}'. A crypto officer must enter the PIN first.`);
        return this.connection().session;
      },
      connection: () => this.connection(),
      emit: (type, data, actor) => this.emit(type, data, actor),
      checkpoint: (extra) => this.commit(extra),
      onCommit: (fn) => {
        this.commitHooks.push(fn);
      },
      person: (id) => {
        const p = this.state.participants.find((x) => x.id === id);
        if (!p) throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', `Nobody with id '${id}' checked in to this ceremony.`, { details: { personId: id } });
        return p;
      },
      events: () => this.events(),
      seal: (signer, data) => this.seal(signer, data),
    };
  }
}

function presentTokens(e: KeyriteError): string {
  const present = Array.isArray(e.details.present) ? (e.details.present as unknown[]).map(String).filter((l) => l.trim()).sort() : [];
  return present.join(', ') || 'none';
}

/** An aborted ceremony's current step was never done; a sealed one has done them all. */
function stepStatus(status: CeremonyView['status'], i: number, index: number): StepStatus {
  if (status === 'sealed' || i < index) return 'done';
  if (i > index) return 'pending';
  return status === 'aborted' ? 'aborted' : 'running';
}

/** Sealing ends the transcript, so its sign-offs (if any) come first; so do those a script asks for. */
function signoffFirst(step: ScriptStep): boolean {
  return step.signoffFirst === true || step.action === 'seal';
}

function unexpected(input: StepInput, wanted: string): KeyriteError {
  return new KeyriteError('CEREMONY_INPUT_UNEXPECTED', `This step is waiting for ${wanted}, not '${input.kind}'.`, { details: { got: input.kind, wanted } });
}

/** `--out DIR` is the bundle itself: created, or refused if it exists and is not empty. */
function prepareOutDir(dir: string): void {
  prepareOutputDir(dir, (d) => new KeyriteError('CEREMONY_OUT_NOT_EMPTY', `The output folder '${d}' is not empty. A ceremony writes its bundle into a new or empty folder; choose another one.`, { details: { dir: d } }));
}

export type { Participant };

/** The seal is done and its bundle written, but the one-time transcript key is still on the token. */
function transcriptKeyLeft(ceremonyId: string, cause: unknown): KeyriteError {
  const label = transcriptKeyLabel(ceremonyId);
  const why = cause instanceof Error ? cause.message : String(cause);
  return new KeyriteError('TRANSCRIPT_KEY_NOT_DESTROYED', `Ceremony '${ceremonyId}' is sealed and its bundle written, but its one-time transcript key '${label}' could not be destroyed (${why}). Until it is, anyone with the user PIN could re-sign a rewritten transcript: destroy the objects labelled '${label}' (for example pkcs11-tool --delete-object --type privkey --label ${label}, then --type pubkey). \`keyrite inventory check\` lists it while it exists.`, { details: { label, ceremonyId }, cause });
}
