import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';

function typingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
}

// Screens that show a secret (a share, its read-back) hold presentation mode off while mounted:
// a projector must never get the share in large type, whatever was switched on before.
let holds = 0;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

/** While the calling component is mounted, presentation mode is off and cannot be switched on. */
export function usePrivateScreen(): void {
  useEffect(() => {
    holds += 1;
    notify();
    return () => {
      holds -= 1;
      notify();
    };
  }, []);
}

function usePrivateHeld(): boolean {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => holds > 0,
  );
}

/**
 * Presentation mode (large type, high contrast, for a projector): F5 anywhere, or P when not
 * typing. Kept in memory only: the app stores nothing in the browser's storage. Forced off while
 * a private screen (share, read-back) is showing; the second value says so.
 */
export function usePresentationMode(): [boolean, () => void, boolean] {
  const [wanted, setWanted] = useState(false);
  const held = usePrivateHeld();
  const on = wanted && !held;
  const toggle = useCallback(() => {
    if (holds === 0) setWanted((v) => !v);
  }, []);
  useEffect(() => {
    document.documentElement.classList.toggle('presentation', on);
    document.documentElement.classList.toggle('private-screen', held);
  }, [on, held]);
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
  return [on, toggle, held];
}
