import { storePath } from '../config/paths';
import { KeyriteError } from '../errors';
import { DEMO_SO_PIN, DEMO_USER_PIN, ensureDemoSoftHsm, type HsmConfig } from '../hsm/config';
import { initSoftHsmToken, softHsmTokenLabels } from '../hsm/softhsm';
import type { Pkcs11Factory } from '../hsm/pkcs11-module';
import { loadPolicy, type KeyPolicy } from '../policy';
import { Store } from '../store/db';
import { Inventory } from '../inventory';
import type { RunnerDeps } from './context';
import type { InterfaceLister } from './preflight';
import { CeremonyRunner } from './runner';
import { listScripts, loadScript, parseScript, readScriptText, type LoadedScript } from './script';
import { checkCeremonyStart } from './validate';
import type { CeremonySummary, CeremonyView, ScriptSummary, ShareCard, StepInput } from './types';

function stepTitle(step: { step_id: string; title: string | null } | undefined): string | null {
  return step ? step.title ?? step.step_id : null;
}

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
 */
export class CeremonyService {
  private readonly runners = new Map<string, CeremonyRunner>();

  private constructor(
    readonly deps: RunnerDeps,
    readonly home: string,
  ) {}

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

  async listCeremonies(): Promise<CeremonySummary[]> {
    const rows = await this.deps.store.all<{ id: string; script_id: string; title: string; status: CeremonySummary['status']; current_step: number; out_dir: string; created_at: string; updated_at: string; script_path: string }>(
      'SELECT id, script_id, title, status, current_step, out_dir, created_at, updated_at, script_path FROM ceremonies ORDER BY created_at DESC',
    );
    const counts = await this.deps.store.all<{ ceremony_id: string; n: number }>('SELECT ceremony_id, COUNT(*) AS n FROM steps GROUP BY ceremony_id');
    const titles = await this.deps.store.all<{ ceremony_id: string; idx: number; step_id: string; title: string | null }>('SELECT ceremony_id, idx, step_id, title FROM steps');
    return rows.map((r) => ({
      id: r.id,
      scriptId: r.script_id,
      title: r.title,
      status: r.status,
      currentStep: r.current_step,
      stepCount: counts.find((c) => c.ceremony_id === r.id)?.n ?? 0,
      currentStepTitle: r.status === 'running' ? stepTitle(titles.find((t) => t.ceremony_id === r.id && t.idx === r.current_step)) : null,
      outDir: r.out_dir,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
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
    const parameters: Record<string, unknown> = { ...(req.parameters ?? {}) };
    if (req.demo) this.ensureDemoTargetToken(loaded, parameters);
    if (req.backupFile) parameters.backupFile = req.backupFile;
    if (req.drillSharesFile) parameters.drillSharesFile = req.drillSharesFile;
    // Everything is checked before anyone checks in and before the HSM does anything.
    await checkCeremonyStart(loaded, parameters, this.deps);
    const runner = await CeremonyRunner.start(this.deps, { loaded, outDir: req.outDir, parameters, demo: req.demo });
    this.runners.set(runner.id, runner);
    return runner;
  }

  /** A rehearsal that restores into a fresh token (a recovery drill) gets it made in the demo store, with the demo PINs. */
  private ensureDemoTargetToken(loaded: LoadedScript, parameters: Record<string, unknown>): void {
    const declared = loaded.script.parameters.targetToken;
    const label = String(parameters.targetToken ?? declared?.default ?? '');
    if (!declared || !label) return;
    const dir = ensureDemoSoftHsm({ KEYRITE_HOME: this.home });
    if (!softHsmTokenLabels(dir).includes(label)) initSoftHsmToken(dir, label, DEMO_USER_PIN, DEMO_SO_PIN);
  }

  async runner(id: string): Promise<CeremonyRunner> {
    const existing = this.runners.get(id);
    if (existing) return existing;
    const runner = await CeremonyRunner.load(this.deps, id, (file) => parseScript(readScriptText(file), file));
    this.runners.set(id, runner);
    return runner;
  }

  async view(id: string): Promise<CeremonyView> {
    return (await this.runner(id)).view();
  }

  async provide(id: string, input: StepInput): Promise<CeremonyView> {
    return (await this.runner(id)).provide(input);
  }

  async abort(id: string, reason: string, personId: string): Promise<CeremonyView> {
    return (await this.runner(id)).abort(reason, personId);
  }

  /** The share on screen as a printable card (reveal phase only); see CeremonyRunner.printShareCard. */
  async shareCard(id: string): Promise<ShareCard> {
    return (await this.runner(id)).printShareCard();
  }

  /** The one ceremony in progress, for `resume` without an id. */
  async onlyRunning(): Promise<string> {
    const running = (await this.listCeremonies()).filter((c) => c.status === 'running');
    if (running.length === 1) return running[0].id;
    if (running.length === 0) throw new KeyriteError('CEREMONY_NONE_RUNNING', 'No ceremony is in progress. Start one with `keyrite ceremony run <script>`.');
    throw new KeyriteError('CEREMONY_AMBIGUOUS', `${running.length} ceremonies are in progress (${running.map((r) => r.id).join(', ')}). Name the one to resume.`);
  }

  async close(): Promise<void> {
    for (const r of this.runners.values()) r.close();
    this.runners.clear();
    await this.deps.store.close();
  }
}
