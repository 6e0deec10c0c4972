import { useCallback, useEffect, useState } from 'react';

function typingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
}

/**
 * Presentation mode (large type, high contrast, for a projector): F5 anywhere, or P when not
 * typing. Kept in memory only: the app stores nothing in the browser's storage.
 */
export function usePresentationMode(): [boolean, () => void] {
  const [on, setOn] = useState(false);
  const toggle = useCallback(() => setOn((v) => !v), []);
  useEffect(() => {
    document.documentElement.classList.toggle('presentation', on);
  }, [on]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'F5' || ((e.key === 'p' || e.key === 'P') && !typingTarget(e.target))) {
        e.preventDefault();
        toggle();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggle]);
  return [on, toggle];
}
