/**
 * Exactly-once recording of step commits, against a real DuckDB file and a real SQLite file:
 * when storage fails after a step's DuckDB transaction committed, the warehouse keeps the step's
 * record in `_strata.commits`, and the next run records it (once, however often recovery runs),
 * so the asset is fresh and the partition is not rebuilt. The crash of a real process at that
 * point is tested end to end in tests/e2e/run-safety.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asset } from '../../core/model/definitions/asset-spec.ts';
import { recoverCommits } from '../../core/engine/execution/commit-recovery.ts';
import { buildProject, type Project } from '../../core/model/project.ts';
import { computeStaleness } from '../../core/model/staleness/compute-staleness.ts';
import { commitLogOf } from '../../resources/warehouse-commit-log.ts';
import type { StepCommit, Storage } from '../../storage/index.ts';
import { openTempWorkspace, sqlAsset, type TempWorkspace } from './temp-workspace.ts';

let workspace: TempWorkspace;

beforeEach(async () => {
  workspace = await openTempWorkspace('strata-commit-recovery-', { name: 'commit-recovery-test', concurrency: 1 });
});

afterEach(() => workspace.close());

function project(): Project {
  return buildProject(workspace.config, [
    asset({
      key: 'raw/words',
      async materialize(ctx) {
        return { rowCount: await ctx.warehouse.replaceTable(`select * from (values ('alpha'), ('beta')) as t(word)`) };
      },
    }),
    sqlAsset('staging/upper', 'select upper(word) as word from raw.words', ['raw/words']),
  ]);
}

/** The workspace's storage, except that the next `failures` commits with materializations throw. */
function failingStorage(failures: number): Storage {
  let left = failures;
  return new Proxy(workspace.storage, {
    get(target, name, receiver) {
      if (name === 'commitStep') {
        return async (commit: StepCommit) => {
          if ((commit.materializations?.length ?? 0) > 0 && left-- > 0) throw new Error('disk I/O error');
          return target.commitStep(commit);
        };
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function materializations(key: string): Promise<{ runId: string; rowCount: number | null }[]> {
  return (await workspace.storage.materializationHistory(key)).map((m) => ({ runId: m.runId, rowCount: m.rowCount }));
}

async function pendingRows(): Promise<unknown[]> {
  return workspace.warehouse.query('select run_id, step_id, asset_key from _strata.commits');
}

describe('a step whose storage record fails after its warehouse commit', () => {
  it('is recorded by the next run, exactly once, and is then fresh', async () => {
    const p = project();
    const first = await workspace.run(p, ['raw/words', 'staging/upper'], { storage: failingStorage(1) });
    expect(first.status).toBe('failed');
    expect(first.steps.map((s) => [s.key, s.status])).toEqual([
      ['raw/words', 'failed'],
      ['staging/upper', 'skipped'],
    ]);
    expect(first.steps[0]?.error).toBe('published in the warehouse but not recorded (disk I/O error): the next run records it');
    // Published but not recorded: the warehouse has the rows and its own record of the commit.
    expect(await workspace.warehouse.query('select word from raw.words order by word')).toEqual([{ word: 'alpha' }, { word: 'beta' }]);
    expect(await materializations('raw/words')).toEqual([]);
    expect(await pendingRows()).toEqual([{ run_id: first.runId, step_id: 'raw/words', asset_key: 'raw/words' }]);

    // The next run (of another asset) records it first, in the first run's log, and says so in its own.
    const second = await workspace.run(p, ['staging/upper']);
    expect(second.status).toBe('success');
    expect(await materializations('raw/words')).toEqual([{ runId: first.runId, rowCount: 2 }]);
    expect(await pendingRows()).toEqual([]);
    const recovered = (await workspace.storage.listEvents(first.runId)).filter((e) => e.data?.recovered === true);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.message).toMatch(
      /^recovered the commit of raw\/words: its data was published in the warehouse at \S+ but the run stopped before recording it \(1 materialization recorded now\)$/,
    );
    expect((await workspace.storage.listEvents(first.runId)).filter((e) => e.type === 'materialization').map((e) => e.assetKey)).toEqual(['raw/words']);
    const notes = (await workspace.storage.listEvents(second.runId)).filter((e) => e.data?.recoveredFrom === first.runId);
    expect(notes.map((e) => e.message)).toEqual([
      `recorded the commit of raw/words from run ${first.runId.slice(0, 8)}, published in the warehouse but not recorded when that run stopped`,
    ]);
    // The run that failed stays failed.
    expect((await workspace.storage.getRun(first.runId))?.status).toBe('failed');

    // Fresh: the recorded commit is newer than the failure the first run recorded, and staging read it.
    const report = await computeStaleness({ project: p, storage: workspace.storage });
    expect(report.stale).toEqual([]);

    // Recovering again records nothing twice.
    expect(await recoverCommits(workspace.storage, workspace.warehouse)).toEqual([]);
    await workspace.run(p, ['staging/upper']);
    expect(await materializations('raw/words')).toEqual([{ runId: first.runId, rowCount: 2 }]);
  });

  it('is not recorded again when its row outlived the storage record (a crash before the row was deleted)', async () => {
    const p = project();
    const first = await workspace.run(p, ['raw/words'], { storage: failingStorage(1) });
    const [row] = await workspace.warehouse.query('select * from _strata.commits');
    await workspace.run(p, ['staging/upper']);
    expect(await materializations('raw/words')).toHaveLength(1);
    // The row comes back, as if the process died between the storage record and the delete.
    const values = Object.values(row ?? {});
    await workspace.warehouse.query(`insert into _strata.commits values (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values as string[]);
    expect(await recoverCommits(workspace.storage, workspace.warehouse)).toEqual([]);
    expect(await pendingRows()).toEqual([]);
    expect(await materializations('raw/words')).toEqual([{ runId: first.runId, rowCount: 2 }]);
  });
});

describe('recoveries at once (two runs of one process starting together)', () => {
  it('record a commit once', async () => {
    const p = project();
    const first = await workspace.run(p, ['raw/words'], { storage: failingStorage(1) });
    const all = await Promise.all([1, 2, 3, 4].map(() => recoverCommits(workspace.storage, workspace.warehouse)));
    expect(all.flat().map((c) => [c.runId, c.stepId, c.recorded])).toEqual([[first.runId, 'raw/words', 1]]);
    expect(await materializations('raw/words')).toEqual([{ runId: first.runId, rowCount: 2 }]);
  });
});

describe('a normal run', () => {
  it('records each step once and leaves no row in _strata.commits', async () => {
    const p = project();
    const run = await workspace.run(p);
    expect(run.status).toBe('success');
    expect(await materializations('raw/words')).toEqual([{ runId: run.runId, rowCount: 2 }]);
    expect(await materializations('staging/upper')).toEqual([{ runId: run.runId, rowCount: 2 }]);
    expect(await pendingRows()).toEqual([]);
    expect(await recoverCommits(workspace.storage, workspace.warehouse)).toEqual([]);
    expect(await materializations('raw/words')).toHaveLength(1);
  });

  it('leaves alone a commit another run of this process is recording', async () => {
    const log = commitLogOf(workspace.warehouse);
    await log.ensure();
    const session = workspace.warehouse.session('raw/words');
    await log.write(session, { commitId: 'c1', runId: 'r1', stepId: 'raw/words', assetKey: 'raw/words', partitions: null, committedAt: 1, record: '{}' });
    await session.commit();
    expect(await log.pending()).toEqual([]);
    log.settle('c1', true);
    expect(log.hasUnrecorded).toBe(true);
    expect((await log.pending()).map((r) => r.commitId)).toEqual(['c1']);
    // Its run is unknown to storage: nothing can be recorded, the row is dropped.
    expect(await recoverCommits(workspace.storage, workspace.warehouse)).toEqual([]);
    expect(await log.pending()).toEqual([]);
    expect(log.hasUnrecorded).toBe(false);
  });
});
