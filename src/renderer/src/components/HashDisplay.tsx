/** A hash as witnesses read it aloud: hex in groups of four, and (when given) as words. */
export function HashDisplay({ label, hex, words, className }: { label: string; hex: string; words?: string[]; className?: string }): React.JSX.Element {
  const groups = hex.match(/.{1,4}/g) ?? [hex];
  return (
    <figure className={`hash-display ${className ?? ''}`}>
      <figcaption>{label}</figcaption>
      <p className="hash-hex" aria-label={`${label} in hexadecimal`} data-hex={hex}>
        {groups.map((g, i) => (
          <span key={i}>{g}</span>
        ))}
      </p>
      {words && words.length > 0 && (
        <ol className="hash-words" aria-label={`${label} as words`}>
          {words.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ol>
      )}
    </figure>
  );
}
