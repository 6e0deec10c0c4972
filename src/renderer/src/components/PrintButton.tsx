import { useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAction } from '../app/hooks';
import { ErrorPanel } from './ErrorPanel';

/**
 * A button that sends something to the printer through main, then says it was sent (or why not).
 * `print` resolves with what the note needs (e.g. the script's SHA-256); the note is only shown
 * after a print that succeeded, and cleared when the next one starts.
 */
export function PrintAction<T>({ label, ariaLabel, print, sentNote, failedTitle }: {
  label: string;
  ariaLabel?: string;
  print: () => Promise<T>;
  sentNote: (value: T) => React.ReactNode;
  failedTitle: string;
}): React.JSX.Element {
  const action = useAction();
  const [sent, setSent] = useState<{ value: T } | null>(null);
  return (
    <>
      <button
        type="button"
        className="secondary"
        aria-label={ariaLabel}
        disabled={action.busy}
        onClick={() =>
          void action.run(async () => {
            setSent(null);
            setSent({ value: await print() });
          })
        }
      >
        {action.busy ? 'Printing…' : label}
      </button>
      {sent && sentNote(sent.value)}
      {action.error && <ErrorPanel error={action.error} noHome title={failedTitle} />}
    </>
  );
}

/** Print the bundle's transcript.html (the document witnesses sign). */
export function PrintButton({ dir }: { dir: string }): React.JSX.Element {
  return (
    <PrintAction
      label="Print the transcript"
      print={() => call(keyrite().bundle.print({ dir }))}
      sentNote={() => (
        <span className="saved" role="status">
          Sent to the printer.
        </span>
      )}
      failedTitle="The transcript was not printed"
    />
  );
}
