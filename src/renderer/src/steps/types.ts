import type { CeremonyViewData, NeedData, StepInputData } from '../../../shared/ipc-contract';

export type NeedOf<K extends NeedData['kind']> = Extract<NeedData, { kind: K }>;

export interface StepProps<K extends NeedData['kind']> {
  need: NeedOf<K>;
  view: CeremonyViewData;
  busy: boolean;
  provide: (input: StepInputData) => Promise<void>;
}
