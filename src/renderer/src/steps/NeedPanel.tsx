import { CheckIn } from './CheckIn';
import { Continue } from './Continue';
import { OpenPgpConfirm } from './OpenPgpConfirm';
import { PinEntry } from './PinEntry';
import { PreflightOverride } from './PreflightOverride';
import { ShareEntry } from './ShareEntry';
import { ShareHandout } from './ShareHandout';
import { Signoff } from './Signoff';
import { Statement } from './Statement';
import type { CeremonyViewData, NeedData, StepInputData } from '../../../shared/ipc-contract';

interface Props {
  need: NeedData;
  view: CeremonyViewData;
  busy: boolean;
  provide: (input: StepInputData) => Promise<void>;
  runView?: (fn: () => Promise<CeremonyViewData | null>) => Promise<void>;
}

/** The form for whatever the current step is waiting for. Exactly one need at a time. */
export function NeedPanel({ need, view, busy, provide, runView }: Props): React.JSX.Element | null {
  const common = { view, busy, provide, runView };
  const key = `${view.current?.index}:${need.kind}`;
  switch (need.kind) {
    case 'participants':
      return <CheckIn key={key} need={need} {...common} />;
    case 'openpgpConfirm':
      // One screen per enrolled custodian: a new key remounts it (nothing typed carries over).
      return <OpenPgpConfirm key={`${key}:${need.custodian.id}`} need={need} {...common} />;
    case 'preflightOverride':
      return <PreflightOverride key={key} need={need} {...common} />;
    case 'pin':
      return <PinEntry key={key} need={need} {...common} />;
    case 'signoff':
      return <Signoff key={key} need={need} {...common} />;
    case 'shareHandout':
      return <ShareHandout key={key} need={need} {...common} />;
    case 'shareEntry':
      return <ShareEntry key={key} need={need} {...common} />;
    case 'statement':
      return <Statement key={key} need={need} {...common} />;
    case 'continue':
      return <Continue key={key} need={need} {...common} />;
    case 'done':
      return null;
  }
}
