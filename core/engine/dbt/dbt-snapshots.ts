/**
 * dbt snapshots: each `{% snapshot name %} … {% endsnapshot %}` block of the snapshot folders
 * becomes a Strata snapshot asset (`materialization: snapshot`) with dbt's column names
 * (`dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from`, `dbt_valid_to`), keyed
 * `<target_schema>/<name>` (table `<target_schema>.<name>`, where dbt builds it).
 *
 * A block's body is rendered in the same dbt context as a model (its `config()` calls give the
 * configuration), with the lines in front of it kept blank so messages name the file's own lines.
 */
import { readFileSync } from 'node:fs';
import { DefinitionError } from '../../model/errors.ts';
import { dbtSnapshotConfig, snapshotFolderConfigs, type DbtSnapshotConfig } from '../../model/dbt/dbt-snapshot-config.ts';
import { DBT_KIND, dbtKeyProblem } from '../../model/dbt/dbt-model-mapping.ts';
import { extractQuery } from '../../model/definitions/sql-query-body.ts';
import type { SqlHeader } from '../../model/definitions/sql-asset-file.ts';
import type { DbtProjectFiles } from './dbt-project-files.ts';
import { renderModel, type RenderSettings } from './dbt-model-render.ts';
import type { TemplatePart } from './dbt-jinja.ts';
import type { DbtLoadCache } from './dbt-load-cache.ts';
import { resolveBody, type ModelNode } from './dbt-ref-resolution.ts';
import type { DbtSqlAsset } from './dbt-project-loader.ts';

/** A rendered, enabled dbt snapshot, before its refs are resolved. */
export interface SnapshotNode {
  readonly node: ModelNode;
  readonly config: DbtSnapshotConfig;
}

const BLOCK = /\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}([\s\S]*?)\{%-?\s*endsnapshot\s*-?%\}/g;
const OPENING = /\{%-?\s*snapshot\b/;

/**
 * Renders every snapshot block of the project and reads its configuration. Problems go to
 * `errors`, naming the file and line; a broken snapshot's key (when known) goes to `brokenKeys`.
 */
export function renderDbtSnapshots(
  files: DbtProjectFiles,
  macros: readonly TemplatePart[],
  settings: Omit<RenderSettings, 'incremental'>,
  cache: DbtLoadCache,
  errors: DefinitionError[],
  brokenKeys: Set<string>,
): SnapshotNode[] {
  const snapshots: SnapshotNode[] = [];
  // Folder config problems, reported once for all the files they apply to.
  const reported = new Set<string>();
  for (const file of files.snapshots) {
    const text = readFileSync(file.path, 'utf8');
    const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
    const report = (message: string, line: number, key?: string) => {
      errors.push(new DefinitionError('dbt_snapshot_invalid', message, { ...(key === undefined ? {} : { assetKey: key }), file: `${file.display}:${line}` }));
      if (key !== undefined) brokenKeys.add(key);
    };
    const blocks = [...text.matchAll(BLOCK)];
    // The file with its blocks and comments blanked (newlines kept): anything left is outside them.
    const blank = (part: string) => part.replace(/[^\n]/g, ' ');
    const outside = text.replace(BLOCK, blank).replace(/\{#[\s\S]*?#\}/g, blank);
    const stray = outside.search(/\S/);
    if (stray >= 0) {
      const what = OPENING.test(outside) ? 'a {% snapshot %} block without {% endsnapshot %}' : 'text outside {% snapshot %} … {% endsnapshot %} blocks';
      report(`${what}: Strata reads only snapshot blocks in ${file.display}`, lineOf(stray));
      continue;
    }
    for (const block of blocks) {
      const name = block[1] as string;
      const startLine = lineOf(block.index ?? 0);
      const bodyOffset = (block.index ?? 0) + (block[0].indexOf('%}') + 2);
      const body = block[2] as string;
      // Blank lines in front keep the file's line numbers in rendering errors.
      const template = '\n'.repeat(lineOf(bodyOffset) - 1) + body;
      const rendered = renderModel({ file: file.display, text: template }, macros, { ...settings, incremental: false }, cache);
      if ('message' in rendered) {
        errors.push(new DefinitionError('dbt_snapshot_invalid', rendered.message, { file: rendered.where }));
        continue;
      }
      const configAt = template.search(/\bconfig\s*\(/);
      const configLine = configAt < 0 ? startLine : template.slice(0, configAt).split('\n').length;
      const folders = file.relative.split('/').slice(0, -1);
      const folderLevels = snapshotFolderConfigs(files.project.snapshots, files.name, folders);
      for (const problem of folderLevels.problems) {
        if (reported.has(problem)) continue;
        reported.add(problem);
        errors.push(new DefinitionError('dbt_config_invalid', problem, { file: files.projectFile }));
      }
      const { config, problems } = dbtSnapshotConfig([...folderLevels.levels, ...rendered.configs], settings.target.schema);
      if (config === undefined) {
        for (const problem of problems) report(`snapshot ${name}: ${problem}`, configLine);
        continue;
      }
      if (!config.enabled) continue;
      const key = `${config.targetSchema}/${name}`;
      const keyIssue = dbtKeyProblem(key);
      if (keyIssue !== undefined) {
        report(keyIssue, startLine);
        continue;
      }
      if (snapshots.some((s) => s.node.name === name)) {
        report(`two snapshots are named "${name}": dbt refs snapshots by name`, startLine, key);
        continue;
      }
      snapshots.push({
        config,
        node: {
          name,
          file: file.display,
          path: name,
          template,
          rendered,
          // As a table for `{{ this }}`: a snapshot's own table.
          config: { materialized: 'table', tags: config.tags, enabled: true, uniqueKey: [] },
          key,
        },
      });
    }
  }
  return snapshots;
}

/** A snapshot as a parsed SQL asset file (`materialization: snapshot`), or `undefined` when a ref names nothing (reported). */
export function snapshotAsset(
  snapshot: SnapshotNode,
  nodes: ReadonlyMap<string, ModelNode>,
  keyOfRef: (name: string) => string | undefined,
  finals: Map<string, string>,
  fail: (message: string) => void,
): Omit<DbtSqlAsset, 'refDeps'> | undefined {
  const { node, config } = snapshot;
  const body = resolveBody(node, node.rendered.text, nodes, keyOfRef, finals, [], fail);
  if (body === undefined) return undefined;
  const query = extractQuery(body, (_code, message) => fail(message));
  if (query === undefined) return undefined;
  const tags: Record<string, string> = {};
  for (const tag of config.tags) tags[tag] = '';
  const header: SqlHeader = Object.freeze({
    deps: Object.freeze([]),
    checks: Object.freeze([]),
    tags: Object.freeze(tags),
    owners: Object.freeze(config.owner === undefined ? [] : [config.owner]),
    kinds: Object.freeze([DBT_KIND]),
    materialization: 'snapshot',
    snapshot: config.snapshot,
    partitionMappings: Object.freeze({}),
  });
  return { file: node.file, columnDescriptions: {}, parsed: { ok: true, key: node.key, header, body: query } };
}
