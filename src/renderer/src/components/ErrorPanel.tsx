import type { ApiError } from '../app/api';
import { useNavigate } from '../app/nav';

interface Props {
  error: Pick<ApiError, 'code' | 'message'>;
  /** Shown as the first way forward, e.g. "Try again". */
  onRetry?: () => void;
  retryLabel?: string;
  /** Hide "Back to home" where home is not a way forward (the home screen itself). */
  noHome?: boolean;
  title?: string;
}

/**
 * Every error: what happened (the core's sentence, which already says what to do), its code for
 * the log book, and at least one way forward. Never a dead end.
 */
export function ErrorPanel({ error, onRetry, retryLabel = 'Try again', noHome, title = 'This did not work' }: Props): React.JSX.Element {
  const navigate = useNavigate();
  return (
    <div className="error-panel" role="alert" data-code={error.code}>
      <h2 className="error-title">{title}</h2>
      <p className="error-message">{error.message}</p>
      <p className="error-code">
        Error code <code>{error.code}</code>
      </p>
      <div className="actions">
        {onRetry && (
          <button type="button" onClick={onRetry}>
            {retryLabel}
          </button>
        )}
        {!noHome && (
          <button type="button" className="secondary" onClick={() => navigate({ screen: 'home' })}>
            Back to home
          </button>
        )}
      </div>
    </div>
  );
}
