import path from 'node:path';
import { storePath } from '../../core/config/paths';
import { resolveHsmConfig, type HsmConfig } from '../../core/hsm/config';
import { Store } from '../../core/store/db';
import type { CeremonyEngine, OpenEngine } from './engine';
import { readSettings, writeSettings, type SavedSettings } from './settings';

/**
 * What the handler table stands on: the store, the saved settings, the HSM configuration they
 * resolve to, and the ceremony engine — each opened on first use, so a bad setting shows up as an
 * error on the screen that needs it rather than stopping the app from starting.
 *
 * Ceremony calls are serialised: the witness window polls while the operator's window drives,
 * and the engine should see one request at a time.
 */
export class MainServices {
  private store?: Promise<Store>;
  private engine?: Promise<CeremonyEngine>;
  private engineQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly openEngine: OpenEngine,
  ) {}

  getStore(): Promise<Store> {
    if (!this.store) {
      const opening = Store.open(storePath(this.home));
      // A failed open is retried on the next call rather than remembered forever.
      opening.catch(() => {
        if (this.store === opening) this.store = undefined;
      });
      this.store = opening;
    }
    return this.store;
  }

  async settings(): Promise<SavedSettings> {
    return readSettings(await this.getStore());
  }

  async saveSettings(patch: Partial<SavedSettings>): Promise<void> {
    await writeSettings(await this.getStore(), patch);
    // The engine holds the HSM configuration it was opened with: reopen it with the new one.
    await this.closeEngine();
  }

  async hsmConfig(): Promise<HsmConfig> {
    const s = await this.settings();
    return resolveHsmConfig({ ...this.env, KEYRITE_HOME: this.home }, { modulePath: s.modulePath ?? undefined, tokenLabel: s.tokenLabel ?? undefined, tokenUri: s.tokenUri ?? undefined, initArgs: s.moduleArgs ?? undefined });
  }

  async outputFolder(): Promise<string> {
    return (await this.settings()).outputFolder ?? path.join(this.home, 'bundles');
  }

  /** Run `fn` with the engine, one call at a time. */
  withEngine<T>(fn: (engine: CeremonyEngine) => Promise<T> | T): Promise<T> {
    const next = this.engineQueue.then(async () => fn(await this.getEngine()));
    this.engineQueue = next.catch(() => undefined);
    return next;
  }

  private getEngine(): Promise<CeremonyEngine> {
    if (!this.engine) {
      const opening = this.hsmConfig().then((hsm) => this.openEngine({ home: this.home, hsm }));
      opening.catch(() => {
        if (this.engine === opening) this.engine = undefined;
      });
      this.engine = opening;
    }
    return this.engine;
  }

  private async closeEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.then((e) => e.close()).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.engineQueue.catch(() => undefined);
    await this.closeEngine();
    const store = this.store;
    this.store = undefined;
    if (store) await store.then((s) => s.close()).catch(() => undefined);
  }
}
