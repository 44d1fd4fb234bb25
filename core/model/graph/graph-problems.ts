/**
 * What is wrong with a set of asset specs as a graph: duplicate keys, unknown dependencies and
 * check targets, and cycles (data or through a check), each a definition error naming the asset.
 */
import { DirectedGraph } from 'graphology';
import { hasCycle } from 'graphology-dag';
import { DefinitionError } from '../errors.ts';
import { checkReads } from '../definitions/check-spec.ts';
import type { AssetSpec } from '../definitions/asset-spec.ts';
import { closestKeys, compareKeys } from '../collections/key-compare.ts';

/**
 * Unknown dependencies and cycles among `specs`, each naming the asset (and file when known).
 * `unchecked` keys exist but failed to load: deps on them are already reported elsewhere.
 */
export function graphProblems(
  specs: readonly AssetSpec[],
  fileOf: (key: string) => string | undefined,
  unchecked: ReadonlySet<string> = new Set(),
): DefinitionError[] {
  const known = new Set(specs.map((s) => s.key));
  const problems: DefinitionError[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.key)) problems.push(new DefinitionError('duplicate_key', 'asset key is defined twice', { assetKey: spec.key }));
    seen.add(spec.key);
  }
  const context = (key: string) => {
    const file = fileOf(key);
    return file === undefined ? { assetKey: key } : { assetKey: key, file };
  };
  const unknown = (key: string) => !known.has(key) && !unchecked.has(key);
  const didYouMean = (key: string) => {
    const hint = closestKeys(key, known);
    return hint.length ? ` (did you mean ${hint.map((k) => `"${k}"`).join(', ')}?)` : '';
  };
  for (const spec of specs) {
    for (const dep of spec.deps) {
      if (unknown(dep)) problems.push(new DefinitionError('unknown_dep', `depends on unknown asset "${dep}"${didYouMean(dep)}`, context(spec.key)));
    }
    for (const check of spec.checks) {
      for (const target of checkReads(check, spec.key)) {
        if (unknown(target))
          problems.push(new DefinitionError('check_invalid', `check ${check.name}: "${target}" is not an asset${didYouMean(target)}`, context(spec.key)));
      }
    }
  }
  const graph = new DirectedGraph();
  // The check that makes an edge a check dependency, by `upstream \0 downstream` (data edges have none).
  const checkOf = new Map<string, string>();
  for (const spec of specs) if (!graph.hasNode(spec.key)) graph.addNode(spec.key);
  for (const spec of specs) {
    for (const dep of spec.deps) if (known.has(dep)) graph.mergeDirectedEdge(dep, spec.key);
    for (const check of spec.checks) {
      for (const target of checkReads(check, spec.key)) {
        if (!known.has(target) || spec.deps.includes(target)) continue;
        graph.mergeDirectedEdge(target, spec.key);
        if (!checkOf.has(`${target}\0${spec.key}`)) checkOf.set(`${target}\0${spec.key}`, check.name);
      }
    }
  }
  if (hasCycle(graph)) {
    for (const cycle of findCycles(graph)) {
      const first = cycle[0] ?? '';
      const named = cycle.map((key) => (fileOf(key) === undefined ? key : `${key} (${fileOf(key)})`));
      const closed = [...cycle, first];
      let path = named[0] ?? '';
      let throughCheck = false;
      for (let i = 1; i < closed.length; i++) {
        const check = checkOf.get(`${closed[i - 1]}\0${closed[i]}`);
        throughCheck ||= check !== undefined;
        path += `${check === undefined ? ' -> ' : ` -(check ${check})-> `}${i === cycle.length ? first : named[i]}`;
      }
      const note = throughCheck ? ' (a check runs after the assets it reads, so they cannot depend on its asset)' : '';
      problems.push(new DefinitionError('cycle', `dependency cycle: ${path}${note}`, context(first)));
    }
  }
  return problems;
}

/** One cycle per strongly connected component that has one, each starting at its smallest key. */
function findCycles(graph: DirectedGraph): string[][] {
  return stronglyConnectedComponents(graph)
    .filter((members) => members.length > 1 || graph.hasDirectedEdge(members[0] as string, members[0] as string))
    .map((members) => {
      const inside = new Set(members);
      const start = [...members].sort(compareKeys)[0] as string;
      return shortestPathBack(graph, start, inside);
    })
    .sort((a, b) => compareKeys(a[0] as string, b[0] as string));
}

/** Tarjan's algorithm, iterative so that 10,000-asset chains do not overflow the stack. */
function stronglyConnectedComponents(graph: DirectedGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.nodes()) {
    if (index.has(root)) continue;
    const work: { node: string; children: string[]; next: number }[] = [];
    const visit = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: graph.outNeighbors(node), next: 0 });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; children: string[]; next: number };
      if (frame.next < frame.children.length) {
        const child = frame.children[frame.next++] as string;
        if (!index.has(child)) visit(child);
        else if (onStack.has(child)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(child) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest path start -> ... -> (back to start) inside one strongly connected component. */
function shortestPathBack(graph: DirectedGraph, start: string, inside: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const key = queue[head] as string;
    for (const child of graph.outNeighbors(key).sort(compareKeys)) {
      if (child === start) {
        const path = [key];
        while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
        return path;
      }
      if (inside.has(child) && !previous.has(child)) {
        previous.set(child, key);
        queue.push(child);
      }
    }
  }
  return [start];
}
