import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layers point one way (docs/architecture.md) and eslint.config.mjs keeps them apart; this
// keeps the modules inside a layer from importing each other in a circle (the store once imported
// the policy, which imported the store back). Type-only imports count too: a circle of types is
// a circle of concepts.
const ROOT = path.resolve(__dirname, '../..');
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'src'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|tsx)$/.test(f) && existsSync(path.join(ROOT, f)));
const known = new Set(files);
const IMPORT = /(?:import|export)\s[^'"]*?from\s*'(\.[^']+)'|import\s*\(\s*'(\.[^']+)'\s*\)|import\s*'(\.[^']+)'/g;

function resolve(from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`, base].find((c) => known.has(c));
}

const graph = new Map(
  files.map((f) => [f, [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(IMPORT)].map((m) => resolve(f, m[1] ?? m[2] ?? m[3])).filter((d): d is string => d !== undefined)]),
);

/** Strongly connected components with more than one module (Tarjan). */
function circles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (g.get(v) ?? []).includes(v)) found.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of src/', () => {
  it('finds a planted circle (so the check below can fail)', () => {
    expect(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  it('resolves the imports it reads', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('src/core/inventory/inventory.ts')).toContain('src/core/store/key-records.ts');
  });

  it("keeps the preload free of schemas: nothing it imports, directly or not, loads zod", () => {
    const closure = new Set<string>();
    const walk = (f: string): void => {
      if (closure.has(f)) return;
      closure.add(f);
      for (const d of graph.get(f) ?? []) walk(d);
    };
    walk('src/preload/index.ts');
    expect([...closure].sort()).toEqual(['src/preload/index.ts', 'src/shared/api.ts', 'src/shared/channels.ts']);
    for (const f of closure) expect(readFileSync(path.join(ROOT, f), 'utf8')).not.toMatch(/from 'zod'/);
  });

  it('has no circle', () => {
    expect(circles(graph)).toEqual([]);
  });

  it('has no circle between the folders of src/core either', () => {
    const folder = (f: string) => f.split('/').slice(0, 3).join('/');
    const edges = new Map<string, string[]>();
    for (const [f, deps] of graph) {
      if (!f.startsWith('src/core/')) continue;
      for (const d of deps) if (folder(d) !== folder(f) && d.startsWith('src/core/')) edges.set(folder(f), [...new Set([...(edges.get(folder(f)) ?? []), folder(d)])]);
    }
    expect(circles(edges)).toEqual([]);
  });
});
