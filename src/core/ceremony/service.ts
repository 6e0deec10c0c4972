import { storePath } from '../config/paths';
import { KeyriteError } from '../errors';
import { DEMO_SO_PIN, DEMO_USER_PIN, ensureDemoSoftHsm, type HsmConfig } from '../hsm/config';
import { ensureSoftHsmToken } from '../hsm/softhsm';
import type { Pkcs11Factory } from '../hsm/pkcs11-module';
import { loadPolicy, type KeyPolicy } from '../policy';
import { CeremonyLock } from '../store/ceremony-lock';
import { CeremonyRepository } from '../store/ceremonies';
import { Store } from '../store/db';
import { Inventory } from '../inventory';
import type { RunnerDeps } from './context';
import { checkDrillSharesTarget } from './drill-shares';
import { describeParameters, withDemoValues, type ParameterForm } from './parameter-form';
import type { InterfaceLister } from './preflight';
import { CeremonyRunner, newCeremonyId } from './runner';
import { listScripts, loadScript, parseScript, readScriptText, type LoadedScript } from './script';
import { checkCeremonyStart } from './validate';
import type { CeremonySummary, CeremonyView, ScriptSummary, ShareCard, StepInput } from './types';

export const APP_VERSION = process.env.KEYRITE_VERSION ?? '0.1.0';

export interface ServiceOptions {
  home: string;
  hsm: HsmConfig;
  policy?: KeyPolicy;
  now?: () => Date;
  interfaces?: InterfaceLister;
  pkcs11Factory?: Pkcs11Factory;
  /** Open an existing store only (default: create it on first use). */
  storeMustExist?: boolean;
}

export interface StartRequest {
  script: string;
  outDir: string;
  parameters?: Record<string, unknown>;
  demo?: boolean;
  backupFile?: string;
  drillSharesFile?: string;
}

/**
 * The ceremony engine's front door, shared by the terminal runner and the desktop app's IPC
 * handlers. Runners live here between calls, so secrets held in memory (a logged-in session,
 * shares being handed out) survive from one input to the next but never reach the store.
 *
 * A runner lives here only while this process holds its ceremony's lock (CeremonyLock): taken
 * before a ceremony is started or loaded, kept until the service closes, so the CLI, the desktop
 * app and a second window never run one ceremony at once. A runner stopped by a failed store
 * write is dropped (and its lock given back), so the next call resumes from the store.
 */
export class CeremonyService {
  private readonly runners = new Map<string, CeremonyRunner>();
  private readonly locks = new Map<string, CeremonyLock>();
  private readonly repo: CeremonyRepository;

  private constructor(
    readonly deps: RunnerDeps,
    readonly home: string,
  ) {
    this.repo = new CeremonyRepository(deps.store);
  }

  static async open(opts: ServiceOptions): Promise<CeremonyService> {
    const store = await Store.open(storePath(opts.home), { create: !opts.storeMustExist });
    const policy = opts.policy ?? loadPolicy();
    const deps: RunnerDeps = {
      store,
      policy,
      inventory: new Inventory(store, policy),
      hsm: opts.hsm,
      appVersion: APP_VERSION,
      now: opts.now ?? (() => new Date()),
      interfaces: opts.interfaces,
      pkcs11Factory: opts.pkcs11Factory,
    };
    return new CeremonyService(deps, opts.home);
  }

  listScripts(): ScriptSummary[] {
    return listScripts();
  }

  /**
   * The script's parameters with their limits and every problem the start would refuse, for the
   * Parameters page and the terminal runner (live validation; nothing is started or written).
   */
  describeParameters(script: string, given: Record<string, unknown>, opts: { demo?: boolean } = {}): ParameterForm {
    return describeParameters(loadScript(script).script, given, this.deps.policy, opts);
  }

  async listCeremonies(): Promise<CeremonySummary[]> {
    return this.repo.list();
  }

  async start(req: StartRequest): Promise<CeremonyView> {
    const runner = await this.startRunner(req);
    return runner.view();
  }

  async startRunner(req: StartRequest): Promise<CeremonyRunner> {
    const loaded = loadScript(req.script);
    if (req.demo && !this.deps.hsm.demo) {
      throw new KeyriteError('CEREMONY_DEMO_REFUSED', `--demo runs only on the embedded demo token, but Keyrite is configured for token '${this.deps.hsm.tokenLabel}' (${this.deps.hsm.modulePath}). Unset KEYRITE_PKCS11_MODULE / KEYRITE_TOKEN_LABEL for a rehearsal.`);
    }
    // A rehearsal takes the script's demo values (the demo root's subject); a real run must name them.
    const parameters: Record<string, unknown> = req.demo ? withDemoValues(loaded.script, req.parameters ?? {}) : { ...(req.parameters ?? {}) };
    if (req.demo) this.ensureDemoTargetToken(loaded, parameters);
    if (req.backupFile) parameters.backupFile = req.backupFile;
    if (req.drillSharesFile) parameters.drillSharesFile = req.drillSharesFile;
    // Refused before the ceremony starts: an existing file or link, or a place inside the bundle.
    if (typeof parameters.drillSharesFile === 'string' && parameters.drillSharesFile) checkDrillSharesTarget(parameters.drillSharesFile, [req.outDir]);
    // Everything is checked before anyone checks in and before the HSM does anything.
    await checkCeremonyStart(loaded, parameters, this.deps);
    const id = newCeremonyId(this.deps.now(), loaded.script.id);
    return this.underLock(id, () => CeremonyRunner.start(this.deps, { id, loaded, outDir: req.outDir, parameters, demo: req.demo }));
  }

  /** Takes the ceremony's lock, makes its runner, and keeps both; the lock is let go if the runner cannot be made. */
  private async underLock(id: string, make: () => Promise<CeremonyRunner>): Promise<CeremonyRunner> {
    const lock = await CeremonyLock.acquire(this.repo, id);
    try {
      const runner = await make();
      this.locks.set(id, lock);
      this.runners.set(id, runner);
      return runner;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /** A rehearsal that restores into a fresh token (a recovery drill) gets it made in the demo store, with the demo PINs. */
  private ensureDemoTargetToken(loaded: LoadedScript, parameters: Record<string, unknown>): void {
    const declared = loaded.script.parameters.targetToken;
    const label = String(parameters.targetToken ?? declared?.default ?? '');
    if (!declared || !label) return;
    const dir = ensureDemoSoftHsm({ KEYRITE_HOME: this.home });
    ensureSoftHsmToken(dir, label, DEMO_USER_PIN, DEMO_SO_PIN);
  }

  /**
   * The ceremony's runner, loaded from the store (which records CEREMONY_RESUMED, or completes a
   * sealed ceremony's bundle) once this process holds its lock; CEREMONY_IN_USE if another does.
   */
  async runner(id: string): Promise<CeremonyRunner> {
    const existing = this.runners.get(id);
    if (existing) return existing;
    return this.underLock(id, () => CeremonyRunner.load(this.deps, id, (file) => parseScript(readScriptText(file), file)));
  }

  /** Run `fn` on the ceremony's runner; a runner that stopped on a failed store write is let go. */
  private async withRunner<T>(id: string, fn: (runner: CeremonyRunner) => Promise<T>): Promise<T> {
    const runner = await this.runner(id);
    try {
      return await fn(runner);
    } finally {
      if (runner.isHalted) await this.release(id);
    }
  }

  /** Close a ceremony's runner here and give its lock back, so another process may take it. */
  async release(id: string): Promise<void> {
    this.runners.get(id)?.close();
    this.runners.delete(id);
    const lock = this.locks.get(id);
    this.locks.delete(id);
    await lock?.release();
  }

  async view(id: string): Promise<CeremonyView> {
    return this.withRunner(id, (r) => r.view());
  }

  async provide(id: string, input: StepInput): Promise<CeremonyView> {
    return this.withRunner(id, (r) => r.provide(input));
  }

  async abort(id: string, reason: string, personId: string): Promise<CeremonyView> {
    return this.withRunner(id, (r) => r.abort(reason, personId));
  }

  /** The share on screen as a printable card (reveal phase only); see CeremonyRunner.printShareCard. */
  async shareCard(id: string): Promise<ShareCard> {
    return this.withRunner(id, (r) => r.printShareCard());
  }

  /** The one ceremony in progress, for `resume` without an id. */
  async onlyRunning(): Promise<string> {
    const running = (await this.listCeremonies()).filter((c) => c.status === 'running');
    if (running.length === 1) return running[0].id;
    if (running.length === 0) throw new KeyriteError('CEREMONY_NONE_RUNNING', 'No ceremony is in progress. Start one with `keyrite ceremony run <script>`.');
    throw new KeyriteError('CEREMONY_AMBIGUOUS', `${running.length} ceremonies are in progress (${running.map((r) => r.id).join(', ')}). Name the one to resume.`);
  }

  async close(): Promise<void> {
    for (const id of [...this.runners.keys()]) await this.release(id);
    await this.deps.store.close();
  }
}
