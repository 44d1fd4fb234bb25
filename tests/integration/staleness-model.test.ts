/**
 * Model-based test of the staleness pass (issue 11): random graphs and random histories of
 * writes, failed attempts, source changes and code edits run through the real executor against
 * real SQLite and DuckDB files; after every step the fast pass must equal a brute-force oracle
 * of the README's definition (partition by partition, reason by reason), and one `--stale-only`
 * run of everything must leave nothing stale.
 *
 * `npm test` runs a fixed seed and a bounded number of cases. A longer search is one command:
 * `STRATA_MODEL_RUNS=1000 STRATA_MODEL_SEED=random npx vitest run tests/integration/staleness-model.test.ts`
 * (`npm run test:model`). A failure prints the shrunk case and the seed to replay it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../core/model/planning/plan.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { findStale } from '../../core/engine/staleness/find-stale.ts';
import { readAssetStates } from '../../core/model/status/asset-states.ts';
import { FileLandingZone } from '../../resources/landing-zone.ts';
import { MODEL_NOW, ProjectModel, modelCases, reportedStale, type ModelCase, type ModelOp } from './staleness-model.ts';
import { openTempWorkspace, type TempWorkspace } from './temp-workspace.ts';

const RUNS = Number(process.env.STRATA_MODEL_RUNS ?? 60);
const SEED = process.env.STRATA_MODEL_SEED === 'random' ? Date.now() : Number(process.env.STRATA_MODEL_SEED ?? 20261205);

describe('staleness against a brute-force oracle', () => {
  it(`equals the oracle after every change and converges after one --stale-only run (${RUNS} cases, seed ${SEED})`, { timeout: 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(modelCases, async (modelCase) => {
        const workspace = await openTempWorkspace('strata-model-', { name: 'model' });
        try {
          await replay(workspace, modelCase);
        } finally {
          await workspace.close();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
  });
});

/** Runs the case's operations, comparing Strata's answer with the oracle's after each. */
async function replay(workspace: TempWorkspace, modelCase: ModelCase): Promise<void> {
  const model = new ProjectModel(modelCase);
  const landing = new FileLandingZone(workspace.config.landingDir);
  const staleNow = async (project: Project) => (await findStale({ project, storage: workspace.storage, landing, now: MODEL_NOW })).stale;
  const agree = async (project: Project, after: string) => {
    const report = await findStale({ project, storage: workspace.storage, landing, now: MODEL_NOW });
    const expected = model.stale();
    expect(reportedStale(report.stale), after).toEqual(expected);
    // `assets status` reads the same report: an asset is fresh exactly when nothing of it is stale.
    for (const state of await readAssetStates(project, workspace.storage, project.graph.keys, report)) {
      if (state.staleness === null) continue;
      const mine = [...expected.keys()].filter((id) => id === state.key || id.startsWith(`${state.key}@`));
      expect(state.staleness.partitions, `${state.key} ${after}`).toBe(mine.length);
      expect(state.state === 'fresh', `${state.key} is ${state.state} ${after}`).toBe(mine.length === 0);
    }
  };

  let project = buildProject(workspace.config, model.definitions());
  await agree(project, 'at the start');
  for (const [n, op] of modelCase.ops.entries()) {
    project = await apply(workspace, model, project, op);
    await agree(project, `after op ${n}: ${JSON.stringify(op)}`);
  }

  // Convergence: one --stale-only run of everything, and nothing is stale.
  const report = await findStale({ project, storage: workspace.storage, landing, now: MODEL_NOW });
  const plan = buildPlan(project.graph, project.graph.keys, { now: MODEL_NOW, stale: report });
  if (plan.steps.length > 0) {
    const result = await workspace.run(project, project.graph.keys, { now: MODEL_NOW, plan });
    expect(result.status, 'the --stale-only run').toBe('success');
  }
  expect(reportedStale(await staleNow(project)), 'after one --stale-only run').toEqual(new Map());
  expect(model.stale(), 'the oracle after one --stale-only run').toEqual(new Map());
}

/** Carries out one operation; returns the project as it is afterwards. */
async function apply(workspace: TempWorkspace, model: ProjectModel, project: Project, op: ModelOp): Promise<Project> {
  const target = model.assets[op.asset];
  if (!target) throw new Error(`no asset ${op.asset}`);
  const keys = model.keysOf(op.asset);
  if (op.type === 'code') {
    if (!target.source) model.editCode(op.asset);
    return buildProject(workspace.config, model.definitions());
  }
  if (op.type === 'source' || target.source) {
    const at = typeof op.partition === 'number' ? op.partition : 0;
    if (target.source) model.changeSource(op.asset, keys[at % keys.length] ?? null, op.type === 'source' && op.remove);
    return project;
  }
  const partition = op.partition === 'all' || keys[0] === null ? undefined : (keys[op.partition % keys.length] as string);
  const plan = buildPlan(project.graph, [target.key], { now: MODEL_NOW, ...(partition === undefined ? {} : { partitions: { key: partition } }) });
  if (op.type === 'write' && op.newData) model.bumpData(op.asset);
  model.failing = op.type === 'fail';
  try {
    const result = await workspace.run(project, [target.key], { now: MODEL_NOW, plan });
    expect(result.status).toBe(op.type === 'fail' ? 'failed' : 'success');
  } finally {
    model.failing = false;
  }
  // Failures and successes in one millisecond would be ordered by chance: keep them apart.
  await new Promise((resolve) => setTimeout(resolve, 2));
  return project;
}
