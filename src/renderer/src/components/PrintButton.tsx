import { useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAction } from '../app/hooks';
import { ErrorPanel } from './ErrorPanel';

/** Print the bundle's transcript.html (the document witnesses sign). */
export function PrintButton({ dir }: { dir: string }): React.JSX.Element {
  const action = useAction();
  const [done, setDone] = useState(false);
  return (
    <>
      <button
        type="button"
        className="secondary"
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            setDone(false);
            await call(keyrite().bundle.print({ dir }));
            setDone(true);
          })
        }
      >
        {action.busy ? 'Printing…' : 'Print the transcript'}
      </button>
      {done && (
        <span className="saved" role="status">
          Sent to the printer.
        </span>
      )}
      {action.error && <ErrorPanel error={action.error} noHome title="The transcript was not printed" />}
    </>
  );
}
