import type { HsmConfig } from '../../core/hsm/config';
import type { CeremonySummary, CeremonyView, ScriptSummary, ShareCard, StepInput } from '../../core/ceremony/types';
import type { ParameterForm } from '../../core/ceremony/parameter-form';

/**
 * The ceremony engine as the desktop app uses it: the shape of `CeremonyService` in
 * src/core/ceremony/service.ts. Declared here so the handler table depends on the shape, and the
 * one place that opens the real service (`open-engine.ts`) is the only import of it.
 */
export interface CeremonyEngine {
  listScripts(): ScriptSummary[];
  listCeremonies(): Promise<CeremonySummary[]>;
  /** The Parameters page's live check: values, limits and problems; starts nothing. */
  describeParameters(script: string, given: Record<string, unknown>, opts?: { demo?: boolean }): ParameterForm;
  start(opts: { script: string; outDir: string; parameters?: Record<string, unknown>; demo?: boolean; backupFile?: string }): Promise<CeremonyView>;
  view(id: string): Promise<CeremonyView>;
  provide(id: string, input: StepInput): Promise<CeremonyView>;
  abort(id: string, reason: string, personId: string): Promise<CeremonyView>;
  /** The share on screen as a printable card; its html is secret (print it, never keep it). */
  shareCard(id: string): Promise<ShareCard>;
  close(): Promise<void>;
}

export type OpenEngine = (opts: { home: string; hsm: HsmConfig }) => Promise<CeremonyEngine>;
