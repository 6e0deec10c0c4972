/**
 * JSON as Keyrite reads it from files people hand over: `JSON.parse` keeps the last of two equal
 * keys, so `{"kcv":"good","kcv":"evil"}` would silently mean "evil". This finds the first
 * duplicate key in text that JSON.parse has already accepted (so only well-formed JSON is
 * scanned), returning its path and the line it is on.
 */
export interface DuplicateKey {
  key: string;
  /** Field path of the object holding it, e.g. "split.shares[2]"; '' for the top level. */
  path: string;
  line: number;
}

type Frame = { kind: 'object'; keys: Set<string>; path: string; lastKey: string | null } | { kind: 'array'; index: number; path: string };

export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  let line = 1;
  let expectKey = false;
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.kind === 'array') return `${top.path}[${top.index}]`;
    return top.path ? `${top.path}.${top.lastKey ?? ''}` : (top.lastKey ?? '');
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '"') {
      let j = i + 1;
      let raw = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          raw += text.slice(j, j + 2);
          j += 2;
        } else raw += text[j++];
      }
      i = j;
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'object') {
        const key = JSON.parse(`"${raw}"`) as string;
        if (top.keys.has(key)) return { key, path: top.path, line };
        top.keys.add(key);
        top.lastKey = key;
        expectKey = false;
      }
    } else if (c === '{') {
      stack.push({ kind: 'object', keys: new Set(), path: childPath(), lastKey: null });
      expectKey = true;
    } else if (c === '[') {
      stack.push({ kind: 'array', index: 0, path: childPath() });
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') expectKey = true;
      else if (top?.kind === 'array') top.index++;
    }
  }
  return null;
}
