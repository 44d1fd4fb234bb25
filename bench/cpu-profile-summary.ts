/**
 * Where a process's CPU went, from the `.cpuprofile` files `node --cpu-prof` writes: self time
 * per area (a package, Node's internals, the engine's folders, garbage collection) and the
 * functions that took the most, idle time left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in ms, per area and per function, of every profile in a folder. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly areas: readonly (readonly [string, number])[];
  readonly functions: readonly (readonly [string, number])[];
}

/** Sums the `.cpuprofile` files in `dir`; `top` functions are kept. */
export function summarizeProfiles(dir: string, top = 12): ProfileSummary {
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      if (node === undefined || node.callFrame.functionName === '(idle)') return;
      totalMs += ms;
      const { functionName, url, lineNumber } = node.callFrame;
      const area = areaOf(url, functionName);
      areas.set(area, (areas.get(area) ?? 0) + ms);
      const name = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
      functions.set(name, (functions.get(name) ?? 0) + ms);
    });
  }
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, areas: sorted(areas), functions: sorted(functions).slice(0, top) };
}

/** `pg`, `kysely`, `node internals`, `engine: storage`, `(garbage collector)`, … */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? url;
  if (url.startsWith('node:')) return 'node internals';
  const engine = /\/(?:dist\/)?(core\/[^/]+(?:\/[^/]+)?|storage|resources|bin)\//.exec(url);
  return engine ? `engine: ${engine[1]}` : shortUrl(url);
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist|core|storage|resources)\//, '$1/');
}
