import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rules of STYLE.md, checked on every `npm test` by reading the imports of every .ts file
 * (type imports and re-exports included):
 * - infra/ imports nothing outside infra/; parts import infra/ and other parts, never gateway/, ui/,
 *   scripts/, test/ or bench/; in gateway/ only server.ts imports parts (it lists them); and there is no
 *   cycle between top-level folders. Test files (*.test.ts)
 *   are leaves nobody imports, so their imports are left out of the folder graph.
 * - A file uses a part other than its own only through that part's index.ts. Allowed exceptions: files in
 *   test/ and bench/ (cross-part tests and benchmarks, which drive a part's internals on purpose) may
 *   import any file of any part. A part's own tests use its internals like any file of the part.
 * - ui/ pages and ui/lib are bundled for the browser: they may import a part's index.ts for types only.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const PARTS = ['reservation', 'waiting-room', 'settlement', 'storefront'];
const FOLDERS = ['infra', 'gateway', ...PARTS, 'ui', 'scripts', 'test', 'bench'];
const HARNESSES = ['test', 'bench'];

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm;

export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4];
    const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to, typeOnly: m[2] !== undefined });
  }
  return out;
}

const top = (path: string) => path.split('/')[0];
const isTest = (path: string) => path.endsWith('.test.ts');

/** Folder cycles as lists like ['a', 'b', 'a']. */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of edges.get(n) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  return cycles;
}

/** The rule each import breaks, if any. */
export function violations(imports: Import[]): string[] {
  const out: string[] = [];
  for (const { from, to, typeOnly } of imports) {
    const a = top(from);
    const b = top(to);
    const what = `${from} imports ${to}`;
    if (!FOLDERS.includes(b)) continue; // e.g. db/, or a file that is not source
    if (a === 'infra' && b !== 'infra') out.push(`${what}: infra/ imports no part`);
    if (PARTS.includes(a) && !isTest(from) && !PARTS.includes(b) && b !== 'infra') out.push(`${what}: a part imports only infra/ and other parts`);
    if (a === 'gateway' && PARTS.includes(b) && !isTest(from) && from !== 'gateway/server.ts') out.push(`${what}: only gateway/server.ts lists the parts`);
    if (a !== b && PARTS.includes(b) && !HARNESSES.includes(a) && to !== `${b}/index.ts`) {
      out.push(`${what}: use ${b}/index.ts, not its internals`);
    }
    if (a === 'ui' && PARTS.includes(b) && !isTest(from) && from !== 'ui/build.ts' && !typeOnly) {
      out.push(`${what}: browser code imports a part for types only`);
    }
  }
  return out;
}

const files = FOLDERS.flatMap(sourceFiles);
const imports = files.flatMap((f) => importsOf(f, readFileSync(join(root, f), 'utf8')));

describe('architecture', () => {
  it('no import breaks the layering or reaches into another part past its index.ts', () => {
    expect(violations(imports)).toEqual([]);
  });

  it('no cycle between top-level folders (test files are leaves and left out)', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, to } of imports) {
      if (isTest(from) || top(from) === top(to) || !FOLDERS.includes(top(to))) continue;
      (edges.get(top(from)) ?? edges.set(top(from), new Set()).get(top(from))!).add(top(to));
    }
    expect(folderCycles(edges)).toEqual([]);
  });

  it('the check sees what it must: type imports, re-exports, dynamic imports and cycles', () => {
    const seen = importsOf('reservation/x.ts', [
      "import type { A } from '../settlement/keys.js';",
      "export { b } from './b.js';",
      "const c = await import('../waiting-room/index.js');",
      "import '../infra/side.js';",
    ].join('\n'));
    expect(seen.map((i) => i.to)).toEqual(['settlement/keys.ts', 'reservation/b.ts', 'waiting-room/index.ts', 'infra/side.ts']);
    expect(violations(seen)).toEqual(['reservation/x.ts imports settlement/keys.ts: use settlement/index.ts, not its internals']);
    expect(violations(importsOf('infra/x.ts', "import { y } from '../gateway/http.js';"))).toHaveLength(1);
    expect(violations(importsOf('settlement/x.ts', "import { y } from '../gateway/http.js';"))).toHaveLength(1);
    expect(violations(importsOf('gateway/auth.ts', "import { y } from '../storefront/index.js';"))).toHaveLength(1);
    expect(violations(importsOf('gateway/server.ts', "import { y } from '../storefront/index.js';"))).toEqual([]);
    expect(violations(importsOf('ui/lib/x.ts', "import { y } from '../../storefront/index.js';"))).toHaveLength(1);
    expect(violations(importsOf('ui/lib/x.ts', "import type { y } from '../../storefront/index.js';"))).toEqual([]);
    const edges = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])]]);
    expect(folderCycles(edges)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
