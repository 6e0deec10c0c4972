import { useEffect, useRef } from 'react';

/**
 * The screen's title. When a screen opens (or `focusKey` changes) and nothing inside the screen
 * has focus yet (a field marked autoFocus keeps it), the heading takes focus, so keyboard and
 * screen-reader users start at the top of the new screen instead of on a button that vanished.
 */
export function ScreenHeading({ children, focusKey }: { children: React.ReactNode; focusKey?: unknown }): React.JSX.Element {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const main = document.getElementById('main');
    const active = document.activeElement;
    const focusInside = active && active !== document.body && main?.contains(active);
    if (!focusInside) ref.current?.focus();
  }, [focusKey]);
  return (
    <h1 ref={ref} tabIndex={-1} className="screen-heading">
      {children}
    </h1>
  );
}
