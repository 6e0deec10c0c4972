import { useState } from 'react';
import { call, keyrite } from '../app/api';
import { useAction } from '../app/hooks';
import { ErrorPanel } from '../components/ErrorPanel';

/**
 * Print the share on screen as a card (words + QR). The card is made and printed by the main
 * process from memory: the renderer only asks, and never receives the card itself.
 */
export function PrintShareCard({ ceremonyId, shareIndex, disabled }: { ceremonyId: string; shareIndex: number; disabled: boolean }): React.JSX.Element {
  const action = useAction();
  const [printed, setPrinted] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="secondary print-share-card"
        disabled={disabled || action.busy}
        onClick={() =>
          void action.run(async () => {
            setPrinted(null);
            const r = await call(keyrite().share.printCard({ id: ceremonyId }));
            setPrinted(`Share card ${r.index} for ${r.custodian} sent to the printer.`);
          })
        }
      >
        {action.busy ? 'Printing…' : 'Print share card'}
      </button>
      {printed && (
        <span className="saved" role="status" data-share={shareIndex}>
          {printed}
        </span>
      )}
      {action.error && <ErrorPanel error={action.error} noHome title="The share card was not printed" />}
    </>
  );
}
