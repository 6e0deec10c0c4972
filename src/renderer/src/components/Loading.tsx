export function Loading({ what }: { what: string }): React.JSX.Element {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}
