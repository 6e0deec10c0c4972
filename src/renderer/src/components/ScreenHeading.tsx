import { useAutoFocus } from '../app/hooks';

/** The screen's title, focused when the screen opens so keyboard and screen-reader users start here. */
export function ScreenHeading({ children, focusKey }: { children: React.ReactNode; focusKey?: unknown }): React.JSX.Element {
  const ref = useAutoFocus<HTMLHeadingElement>(focusKey);
  return (
    <h1 ref={ref} tabIndex={-1} className="screen-heading">
      {children}
    </h1>
  );
}
