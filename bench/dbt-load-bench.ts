/**
 * Loading a generated dbt project: 500 models in three folders (folder configs, a Jinja loop, a
 * macro call and a ref each), 10 macro files, a seed and two schema.yml tests per model. Cold is
 * the first load in this process with no cache in `.strata/` (nunjucks, the YAML parser and
 * DuckDB's parser loaded, every template rendered, every query parsed); warm is a later load with
 * the caches present (SQL dependencies, dbt renderings and YAML files), in this process and in a
 * new one (as the CLI loads it; the figure excludes starting Node).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../core/engine/project/project-loader.ts';

/** What one measurement found. */
export interface DbtLoadFigures {
  readonly models: number;
  readonly assets: number;
  readonly coldMs: number;
  /** CPU time of the cold load, every thread of the process (less sensitive to a busy machine than wall time). */
  readonly coldCpuMs: number;
  readonly warmMs: number;
  /** A load in a new process with the caches present (best of three). */
  readonly warmProcessMs: number;
}

/** Writes a dbt project of `models` models into a new temp folder and returns it. */
export function generateDbtProject(models: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-dbt-bench-'));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  write('dbt_project.yml', 'name: bench\nvars:\n  scale: 100\nmodels:\n  bench:\n    +materialized: table\n    staging:\n      +materialized: view\n');
  for (let m = 0; m < 10; m++) write(`macros/money_${m}.sql`, `{% macro money_${m}(column) -%}\n({{ column }} / {{ var('scale') }})\n{%- endmacro %}\n`);
  write('seeds/raw.csv', 'id,amount\n1,100\n2,250\n');
  const yml = ['version: 2', 'models:'];
  for (let i = 0; i < models; i++) {
    const folder = i < models / 5 ? 'staging' : i < (models * 3) / 5 ? 'intermediate' : 'marts';
    const upstream = i < models / 5 ? "ref('raw')" : `ref('m${(i * 7) % Math.floor(i / 2 + 1)}')`;
    write(
      `models/${folder}/m${i}.sql`,
      `{% set columns = ['id', 'amount'] %}\nselect\n  {% for c in columns -%}\n  {{ c }}{% if not loop.last %},{% endif %}\n  {% endfor -%}\n  , {{ money_${i % 10}('amount') }} as dollars\nfrom {{ ${upstream} }}\n`,
    );
    yml.push(`  - name: m${i}`, '    columns:', '      - name: id', '        tests: [unique, not_null]');
  }
  write('models/schema.yml', `${yml.join('\n')}\n`);
  return dir;
}

/** Loads a generated project of `models` models cold, then warm (best of three). */
export async function measureDbtLoad(models = 500): Promise<DbtLoadFigures> {
  const dir = generateDbtProject(models);
  try {
    let started = performance.now();
    const cpu = process.cpuUsage();
    const project = await loadProject(dir);
    const coldMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const coldCpuMs = (used.user + used.system) / 1000;
    let warmMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      started = performance.now();
      await loadProject(dir);
      warmMs = Math.min(warmMs, performance.now() - started);
    }
    let warmProcessMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const child = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--load', dir], { encoding: 'utf8' });
      warmProcessMs = Math.min(warmProcessMs, Number(child.trim()));
    }
    return { models, assets: project.graph.size, coldMs, coldCpuMs, warmMs, warmProcessMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `--load DIR`: prints how long loading DIR takes in this new process.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--load') {
  const started = performance.now();
  await loadProject(process.argv[3] as string);
  console.log((performance.now() - started).toFixed(1));
}
