import { useAutoFocus } from '../app/hooks';
import type { StepProps } from './types';

export function Continue({ need, view, busy, provide }: StepProps<'continue'>): React.JSX.Element {
  const ref = useAutoFocus<HTMLButtonElement>(view.current?.index);
  return (
    <section className="continue">
      <p className="need-message">{need.message}</p>
      <div className="actions">
        <button ref={ref} type="button" disabled={busy} onClick={() => void provide({ kind: 'continue' })}>
          {busy ? 'Working…' : 'Continue'}
        </button>
      </div>
    </section>
  );
}
