/**
 * The engine's imports as data, for the layer rules in import-rules.test.ts: every relative
 * import (static, dynamic, `export … from`, and `new URL('./x.js', import.meta.url)` for
 * workers and hooks) resolved to a path under the repository, plus package imports by name.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One import of one file. */
export interface ImportEdge {
  readonly from: string;
  /** A repository-relative path for relative imports; the bare specifier for packages. */
  readonly to: string;
  readonly relative: boolean;
  /** `import type` / `export type`: erased at build time. */
  readonly typeOnly: boolean;
}

/** A layer: the files it owns and what it may import. */
export interface Layer {
  readonly name: string;
  /** Folders (ending in `/`) or single files it owns. */
  readonly owns: readonly string[];
  /** Layers whose files it may import (its own is implied). */
  readonly mayImport: readonly string[];
  /** Files outside those layers it may import anyway (interfaces). */
  readonly alsoFiles?: readonly string[];
  /** Files outside those layers it may import with `import type` only. */
  readonly typesFrom?: readonly string[];
  /** Packages and `node:` modules it may import; absent: any. */
  readonly packages?: readonly string[];
  /** Source text it must not contain (such as `process.env`). */
  readonly forbiddenText?: readonly RegExp[];
}

/** Every `.ts`/`.js` file under `folders`, repository-relative with `/`, skipping `skip` prefixes. */
export function listSources(root: string, folders: readonly string[], skip: readonly string[] = []): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (skip.some((prefix) => child.startsWith(prefix))) continue;
      if (entry.isDirectory()) walk(child);
      else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(child);
    }
  };
  for (const folder of folders) walk(folder);
  return found.sort();
}

/** Source text with comments blanked out (strings and template literals kept), so examples in TSDoc are not imports. */
export function withoutComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const STATIC = /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?(['"])([^'"]+)\3/g;
const DYNAMIC = /\bimport\(\s*(['"])([^'"]+)\1\s*\)/g;
const URL_REF = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** The imports of one file, given its repository-relative path and its text. */
export function importsOf(file: string, source: string): ImportEdge[] {
  const text = withoutComments(source);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    const relative = specifier.startsWith('.');
    const to = relative ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : specifier;
    edges.push({ from: file, to, relative, typeOnly });
  };
  for (const match of text.matchAll(STATIC)) add(match[4] as string, match[2] !== undefined);
  for (const match of text.matchAll(DYNAMIC)) add(match[2] as string, false);
  for (const match of text.matchAll(URL_REF)) add(match[2] as string, false);
  return edges;
}

/** The layer that owns `file` (the longest matching entry wins), or undefined. */
export function layerOf(layers: readonly Layer[], file: string): Layer | undefined {
  let best: { layer: Layer; length: number } | undefined;
  for (const layer of layers) {
    for (const owned of layer.owns) {
      const match = owned.endsWith('/') ? file.startsWith(owned) : file === owned;
      if (match && (!best || owned.length > best.length)) best = { layer, length: owned.length };
    }
  }
  return best?.layer;
}

/** Every import that breaks a layer's rules, as `from -> to (why)` lines. */
export function layerViolations(layers: readonly Layer[], files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    const layer = layerOf(layers, file);
    if (!layer) continue;
    for (const pattern of layer.forbiddenText ?? []) {
      if (pattern.test(withoutComments(source))) problems.push(`${file}: ${layer.name} must not use ${pattern.source}`);
    }
    for (const edge of importsOf(file, source)) {
      if (!edge.relative) {
        const name = edge.to.startsWith('node:') ? edge.to : (edge.to.match(/^(@[^/]+\/[^/]+|[^/]+)/)?.[1] ?? edge.to);
        if (layer.packages && !layer.packages.includes(name)) problems.push(`${file} -> ${edge.to} (${layer.name} may not import this package)`);
        continue;
      }
      const target = layerOf(layers, edge.to);
      if (target === layer || (target && layer.mayImport.includes(target.name))) continue;
      if (layer.alsoFiles?.includes(edge.to)) continue;
      if (edge.typeOnly && layer.typesFrom?.includes(edge.to)) continue;
      problems.push(`${file} -> ${edge.to} (${layer.name} may not import ${target?.name ?? 'files outside the layers'}${edge.typeOnly ? ', even types' : ''})`);
    }
  }
  return problems;
}

/**
 * Folder-level cycles: each file counts as its folder (`unitOf`), and every strongly connected
 * set of two or more folders is returned with the imports that tie it.
 */
export function folderCycles(files: ReadonlyMap<string, string>, unitOf: (file: string) => string): string[][] {
  const graph = new Map<string, Map<string, string>>();
  for (const [file, source] of files) {
    for (const edge of importsOf(file, source)) {
      if (!edge.relative || !files.has(edge.to)) continue;
      const from = unitOf(file);
      const to = unitOf(edge.to);
      if (from === to) continue;
      const targets = graph.get(from) ?? new Map<string, string>();
      if (!targets.has(to)) targets.set(to, `${file} -> ${edge.to}`);
      graph.set(from, targets);
    }
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length < 2) return;
    const ties = members.flatMap((a) => members.map((b) => graph.get(a)?.get(b)).filter((tie): tie is string => tie !== undefined));
    cycles.push([members.sort().join(' <-> '), ...ties]);
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}
