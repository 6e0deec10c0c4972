import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KeyriteError, isKeyriteError } from '../errors';
import { errorMeta } from '../error-codes';
import { fileSystemError } from '../fs/fs-errors';
import { prepareOutputDir } from '../fs/output-dir';
import { connectHsm, type HsmConnection } from '../hsm/connect';
import type { HsmSession } from '../hsm/session';
import type { Store } from '../store/db';
import { eventLine, makeEvent, type EventType, type TranscriptEvent } from '../transcript';
import { HANDLERS } from './actions';
import { shareCardForReveal } from './actions/shares';
import { killHereForCrashTest } from './fault';
import { userPinNeed, type ActionContext, type CeremonyState, type PendingEvent, type RunnerDeps, type VolatileSecrets } from './context';
import { resolveParameters, type Parameters } from './parameters';
import { roleSpecs, type CeremonyScript, type LoadedScript, type ScriptStep } from './script';
import type { CeremonyView, Need, Participant, ShareCard, StepInput, StepStatus } from './types';

interface CeremonyRow {
  id: string;
  script_id: string;
  script_version: string;
  script_sha256: string;
  script_path: string;
  title: string;
  status: 'running' | 'sealed' | 'aborted';
  current_step: number;
  parameters: string;
  state: string;
  out_dir: string;
  demo: number;
  created_at: string;
}

export interface StartOptions {
  loaded: LoadedScript;
  outDir: string;
  parameters?: Record<string, unknown>;
  demo?: boolean;
  tokenLabel?: string;
}

/**
 * The ceremony state machine. A step runs its action (if any), then collects the sign-offs its
 * script asks for, then completes. Every change is written with its transcript events in one
 * sqlite transaction before the runner moves on, so a crash resumes exactly where it stopped.
 */
export class CeremonyRunner {
  private head: TranscriptEvent | null;
  private pending: PendingEvent[] = [];
  private commitHooks: Array<(tx: Store) => Promise<void>> = [];
  private lastError: CeremonyView['lastError'] = null;
  private readonly secrets: VolatileSecrets = { collected: [] };

  private constructor(
    private readonly deps: RunnerDeps,
    readonly id: string,
    readonly script: CeremonyScript,
    readonly params: Parameters,
    private state: CeremonyState,
    private status: 'running' | 'sealed' | 'aborted',
    private index: number,
    readonly outDir: string,
    readonly demo: boolean,
    head: TranscriptEvent | null,
  ) {
    this.head = head;
  }

  // ---------------------------------------------------------------- lifecycle

  static async start(deps: RunnerDeps, opts: StartOptions): Promise<CeremonyRunner> {
    const { loaded } = opts;
    const { values, warnings } = resolveParameters(loaded.script, opts.parameters ?? {}, deps.policy);
    const outDir = path.resolve(opts.outDir);
    prepareOutDir(outDir);
    const now = deps.now();
    const id = `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${loaded.script.id}-${randomBytes(3).toString('hex')}`;
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
    const runner = new CeremonyRunner(deps, id, loaded.script, values, state, 'running', 0, outDir, opts.demo === true, null);
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
      tokenLabel: state.tokenLabel,
      outDir,
    });
    runner.emitStepStarted();
    await deps.store.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO ceremonies (id, script_id, script_version, script_sha256, script_path, title, status, current_step, parameters, state, out_dir, demo, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'running', 0, ?, ?, ?, ?, ?, ?)`,
        [id, loaded.script.id, loaded.script.version, loaded.sha256, loaded.file, loaded.script.title, JSON.stringify(values), JSON.stringify(state), outDir, runner.demo ? 1 : 0, now.toISOString(), now.toISOString()],
      );
      for (const [i, s] of loaded.script.steps.entries()) {
        await tx.run('INSERT INTO steps (ceremony_id, idx, step_id, title, status) VALUES (?, ?, ?, ?, ?)', [id, i, s.id, s.title, i === 0 ? 'running' : 'pending']);
      }
      await runner.writePending(tx);
    });
    await runner.skipInactiveSteps();
    return runner;
  }

  static async load(deps: RunnerDeps, id: string, loadScriptFile: (file: string) => LoadedScript): Promise<CeremonyRunner> {
    const row = await deps.store.get<CeremonyRow>('SELECT * FROM ceremonies WHERE id = ?', [id]);
    if (!row) throw new KeyriteError('CEREMONY_NOT_FOUND', `No ceremony with id '${id}' is in the store. Run \`keyrite ceremony status\` to list ceremonies.`, { details: { id } });
    const loaded = loadScriptFile(row.script_path);
    if (loaded.sha256 !== row.script_sha256) {
      throw new KeyriteError('CEREMONY_SCRIPT_CHANGED', `The script of ceremony '${id}' (${row.script_path}) changed since the ceremony started (SHA-256 ${loaded.sha256.slice(0, 16)}… instead of ${row.script_sha256.slice(0, 16)}…). Restore the original script to resume; a ceremony cannot change its script midway.`, { details: { id } });
    }
    const last = await deps.store.get<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq DESC LIMIT 1', [id]);
    const head = last ? (JSON.parse(last.line) as TranscriptEvent) : null;
    const runner = new CeremonyRunner(deps, id, loaded.script, JSON.parse(row.parameters) as Parameters, JSON.parse(row.state) as CeremonyState, row.status, row.current_step, row.out_dir, row.demo === 1, head);
    if (row.status === 'running' && head?.type !== 'CEREMONY_SEALED') {
      runner.emit('CEREMONY_RESUMED', { step: runner.currentStep?.id ?? null, index: runner.index, phase: runner.state.phase });
      await runner.commit();
    }
    return runner;
  }

  /** Closes the HSM session. The ceremony stays resumable. */
  close(): void {
    this.secrets.conn?.close();
    this.secrets.conn = undefined;
    this.secrets.issued = undefined;
    this.secrets.collected = [];
  }

  // ---------------------------------------------------------------- queries

  get currentStep(): ScriptStep | undefined {
    return this.status === 'running' ? this.script.steps[this.index] : undefined;
  }

  get ceremonyStatus(): 'running' | 'sealed' | 'aborted' {
    return this.status;
  }

  async view(): Promise<CeremonyView> {
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
      if (need.kind === 'shareHandout' && need.phase === 'reveal') {
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
    return { kind: 'continue', message: handler.continueMessage?.(ctx) ?? `Continue to ${step.title.toLowerCase()}.` };
  }

  private signoffNeed(step: ScriptStep): Need {
    const remaining: Record<string, number> = {};
    for (const [role, n] of Object.entries(step.confirm ?? {})) {
      const done = this.state.signoffs.filter((s) => s.role === role).length;
      if (n - done > 0) remaining[role] = n - done;
    }
    return { kind: 'signoff', remaining, signed: [...this.state.signoffs] };
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
    if (!step) throw new KeyriteError('CEREMONY_NOT_RUNNING', `Ceremony '${this.id}' is ${this.status}; it takes no more input.`);
    try {
      await this.apply(step, input);
    } catch (caught) {
      const e = fileSystemError(caught) ?? caught;
      if (!isKeyriteError(e) || errorMeta(e.code).fixedBy === 'developer') throw e;
      this.lastError = { code: e.code, message: e.message, details: e.details };
      this.pending = [];
      this.commitHooks = [];
      if (errorMeta(e.code).endsHsmSession) {
        // The token may be gone or reset: drop the session so the next attempt logs in afresh.
        this.secrets.conn?.close();
        this.secrets.conn = undefined;
      }
      // Once CEREMONY_SEALED is in the chain nothing may follow it; the error is shown, not recorded.
      if (this.head?.type !== 'CEREMONY_SEALED') {
        this.emit('ERROR_RECORDED', { step: step.id, code: e.code, message: e.message });
        await this.commit().catch(() => undefined);
      }
    }
    return this.view();
  }

  private async apply(step: ScriptStep, input: StepInput): Promise<void> {
    if (this.state.phase === 'signoff' || this.state.phase === 'signoffFirst') {
      if (input.kind !== 'signoff') throw unexpected(input, 'a sign-off');
      await this.signoff(step, input.personId, input.role);
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
      if (input.kind !== need.kind && !(need.kind === 'shareHandout' && (input.kind === 'shareAck' || input.kind === 'shareConfirm')) && !(need.kind === 'shareEntry' && input.kind === 'share')) {
        throw unexpected(input, need.kind);
      }
      if (!handler.provide) throw new KeyriteError('INTERNAL_NO_PROVIDE', `Action ${step.action} cannot take input.`);
      outcome = await handler.provide(ctx, input);
    }
    killHereForCrashTest(step.id);
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

  private async signoff(step: ScriptStep, personId: string, roleHint?: string): Promise<void> {
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
    this.state.signoffs.push({ personId, name: person.name, role });
    this.emit('STEP_CONFIRMED', { index: this.index, personId, name: person.name, role }, personId);
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
    if (this.status === 'sealed') {
      // Nothing may follow CEREMONY_SEALED in the chain: the seal step ends the ceremony as it is.
      this.index = this.script.steps.length;
      await this.commit(async (tx) => {
        await tx.run("UPDATE steps SET status = 'done', finished_at = ? WHERE ceremony_id = ? AND status != 'done'", [this.deps.now().toISOString(), this.id]);
      });
      this.close();
      return;
    }
    this.emit('STEP_COMPLETED', { index: this.index, title: step.title, signoffs: this.state.signoffs.map((s) => `${s.personId}:${s.role}`), evidence: this.state.evidence ?? {} });
    const finished = this.index;
    this.index += 1;
    this.state.actionState = {};
    this.state.evidence = null;
    this.state.signoffs = [];
    const next = this.script.steps[this.index];
    if (next) {
      this.state.phase = this.phaseFor(next);
      this.emitStepStarted();
    }
    await this.commit(async (tx) => {
      await tx.run("UPDATE steps SET status = 'done', finished_at = ? WHERE ceremony_id = ? AND idx = ?", [this.deps.now().toISOString(), this.id, finished]);
      if (next) await tx.run("UPDATE steps SET status = 'running', started_at = ? WHERE ceremony_id = ? AND idx = ?", [this.deps.now().toISOString(), this.id, this.index]);
    });
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
    if (!step) {
      throw new KeyriteError('SHARE_CARD_UNAVAILABLE', `Ceremony '${this.id}' is ${this.status}; a share card can be printed only while a share is shown during its hand-out.`);
    }
    const need = await this.currentNeed(step);
    const card = await shareCardForReveal(this.context(step), need.kind === 'shareHandout' ? need.phase : null);
    try {
      await this.commit();
    } catch (e) {
      // Not printed, so not recorded later either.
      this.pending = [];
      throw e;
    }
    return card;
  }

  /**
   * Abort is an explicit, recorded act by a checked-in person. Before anyone has checked in there
   * is nobody to check against: the abort is then recorded with the name given and
   * `checkedIn: false`, so the transcript does not claim a participant decided it.
   */
  async abort(reason: string, personId: string): Promise<CeremonyView> {
    if (this.status !== 'running') throw new KeyriteError('CEREMONY_NOT_RUNNING', `Ceremony '${this.id}' is already ${this.status}.`);
    if (!reason.trim()) throw new KeyriteError('CEREMONY_ABORT_REASON', 'Say why the ceremony is aborted; the reason goes into the transcript.');
    const checkedIn = this.state.participants.length > 0;
    const person = this.state.participants.find((p) => p.id === personId);
    if (checkedIn && !person) {
      throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', `Nobody with id '${personId}' checked in to this ceremony; only a participant can abort it. Give the id of one of: ${this.state.participants.map((p) => `${p.id} (${p.name})`).join(', ')}.`, { details: { personId } });
    }
    if (!personId.trim()) throw new KeyriteError('CEREMONY_PERSON_UNKNOWN', 'Say who decided to abort the ceremony; the name goes into the transcript.');
    this.emit('CEREMONY_ABORTED', { reason: reason.trim(), personId, name: person?.name ?? null, checkedIn: person !== undefined, step: this.currentStep?.id ?? null, index: this.index }, person ? person.id : null);
    this.status = 'aborted';
    await this.commit();
    this.close();
    return this.view();
  }

  // ---------------------------------------------------------------- HSM

  connection(): HsmConnection {
    if (!this.secrets.conn) {
      try {
        this.secrets.conn = connectHsm({ ...this.deps.hsm, tokenLabel: this.state.tokenLabel }, { factory: this.deps.pkcs11Factory });
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

  private async writePending(tx: Store): Promise<void> {
    for (const p of this.pending) {
      const event = makeEvent(this.head, {
        at: this.deps.now().toISOString(),
        ceremony: this.id,
        step: p.step !== undefined ? p.step : (this.script.steps[this.index]?.id ?? null),
        actor: p.actor ?? null,
        type: p.type,
        data: p.data,
      });
      await tx.run('INSERT INTO events (ceremony_id, seq, line, hash) VALUES (?, ?, ?, ?)', [this.id, event.seq, eventLine(event), event.hash]);
      this.head = event;
    }
    this.pending = [];
  }

  /**
   * Write pending events, the state, the step index and status, plus any store work, in ONE
   * transaction. On failure nothing is written and the in-memory state is rolled back.
   */
  async commit(extra?: (tx: Store) => Promise<void>): Promise<void> {
    const snapshot = { head: this.head, state: JSON.stringify(this.state), index: this.index, status: this.status };
    const pendingCopy = [...this.pending];
    const hooks = this.commitHooks;
    this.commitHooks = [];
    try {
      await this.deps.store.transaction(async (tx) => {
        await this.writePending(tx);
        for (const hook of hooks) await hook(tx);
        if (extra) await extra(tx);
        await tx.run('UPDATE ceremonies SET state = ?, current_step = ?, status = ?, updated_at = ? WHERE id = ?', [JSON.stringify(this.state), this.index, this.status, this.deps.now().toISOString(), this.id]);
      });
    } catch (e) {
      this.head = snapshot.head;
      this.state = JSON.parse(snapshot.state) as CeremonyState;
      this.index = snapshot.index;
      this.status = snapshot.status;
      this.pending = pendingCopy;
      throw e;
    }
  }

  async events(): Promise<TranscriptEvent[]> {
    const rows = await this.deps.store.all<{ line: string }>('SELECT line FROM events WHERE ceremony_id = ? ORDER BY seq', [this.id]);
    return rows.map((r) => JSON.parse(r.line) as TranscriptEvent);
  }

  markSealed(sealed: NonNullable<CeremonyState['sealed']>): void {
    this.state.sealed = sealed;
    this.status = 'sealed';
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
      markSealed: (sealed) => this.markSealed(sealed),
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
