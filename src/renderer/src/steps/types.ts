import type { CeremonyViewData, NeedData, StepInputData } from '../../../shared/ipc-contract';

export type NeedOf<K extends NeedData['kind']> = Extract<NeedData, { kind: K }>;

export interface StepProps<K extends NeedData['kind']> {
  need: NeedOf<K>;
  view: CeremonyViewData;
  busy: boolean;
  provide: (input: StepInputData) => Promise<void>;
  /**
   * Run a call that answers with a new view (or null: nothing changed, e.g. a dialog cancelled),
   * under the same busy flag and error display as `provide`. For inputs main supplies itself,
   * such as a decrypted share file it reads so the share never crosses IPC.
   */
  runView?: (fn: () => Promise<CeremonyViewData | null>) => Promise<void>;
}
