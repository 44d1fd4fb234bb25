import { AssetGraph, graphProblems } from './core/graph/asset-graph.ts';
import { buildSpec } from './core/definitions/asset-spec.ts';
const L = 100, W = 100;
const k = (l: number, w: number) => `l${String(l).padStart(3, '0')}/n${String(w).padStart(3, '0')}`;
const specs = [];
for (let l = 0; l < L; l++) for (let w = 0; w < W; w++) specs.push(buildSpec(k(l, w), { deps: l ? [k(l - 1, w), k(l - 1, (w + 1) % W)] : [], tags: {}, owners: [] }, 'sql'));
let t = Date.now(); const g = AssetGraph.build(specs); console.log('build', Date.now() - t, g.layers.length);
// add a cycle: l000/n000 depends on l099/n000
specs[0] = buildSpec(k(0, 0), { deps: [k(L - 1, 0)], tags: {}, owners: [] }, 'sql');
t = Date.now(); const p = graphProblems(specs, () => undefined); console.log('problems', Date.now() - t, p.length, p[0]?.message.slice(0, 100));
