/**
 * OpenLineage `RunEvent`s of Strata's steps, built as plain JSON (spec 2-0-2): the asset is the
 * job, the Strata run the parent run, upstream assets the inputs and the asset's table the
 * output, with the standard facets Strata knows (sourceCode, jobType, parent, errorMessage,
 * schema, columnLineage, dataQualityAssertions, outputStatistics, version). Pure: the engine
 * gathers what goes in.
 */

/** The spec version of the events, and the schema URL each event names. */
export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

/** The `_schemaURL` of each standard facet Strata emits, by facet key. */
export const FACET_SCHEMA_URLS = Object.freeze({
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  sourceCode: 'https://openlineage.io/spec/facets/1-0-1/SourceCodeJobFacet.json#/$defs/SourceCodeJobFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  columnLineage: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
  dataQualityAssertions: 'https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet',
  outputStatistics: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
  version: 'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
});

/** How a step's run ended, or that it started. */
export type StepEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

/** A dataset: where it lives (`duckdb:///path`, `postgres://host:port/db`) and its name there. */
export interface DatasetRef {
  readonly namespace: string;
  readonly name: string;
}

/** An input dataset, with the data version the step read when known. */
export interface InputDatasetSpec extends DatasetRef {
  readonly version?: string;
}

/** One check result as a data-quality assertion. */
export interface AssertionSpec {
  /** The check's rule, e.g. `not_null`. */
  readonly assertion: string;
  readonly name: string;
  readonly success: boolean;
  readonly severity: string;
  /** The column the check names, when it names one. */
  readonly column?: string;
}

/** One input column an output column (or the whole dataset) depends on. */
export interface ColumnLineageInput extends DatasetRef {
  readonly field: string;
  /** `DIRECT` (values come from it) or `INDIRECT` (it decides rows: joins, filters, grouping). */
  readonly type: 'DIRECT' | 'INDIRECT';
  /** IDENTITY, TRANSFORMATION, AGGREGATION; JOIN, FILTER, GROUP_BY, SORT, WINDOW. */
  readonly subtype: string;
}

/** The asset's table as the step's output. */
export interface OutputDatasetSpec extends DatasetRef {
  readonly schema?: readonly { readonly name: string; readonly type: string }[];
  /** Output column → the input columns it comes from; `dataset`: inputs used by the whole dataset. */
  readonly columnLineage?: {
    readonly fields: ReadonlyMap<string, readonly ColumnLineageInput[]>;
    readonly dataset: readonly ColumnLineageInput[];
  };
  readonly assertions?: readonly AssertionSpec[];
  readonly rowCount?: number;
  /** The data version written. */
  readonly version?: string;
}

/** Everything one step event says. */
export interface StepEventSpec {
  readonly eventType: StepEventType;
  /** Epoch milliseconds. */
  readonly eventTime: number;
  /** The producer URI of the events and facets. */
  readonly producer: string;
  /** The step's OpenLineage run id (a UUID). */
  readonly runId: string;
  /** The Strata run: its OpenLineage run id and job. */
  readonly parent: { readonly runId: string } & DatasetRef;
  readonly job: DatasetRef & { readonly sql?: string };
  readonly inputs: readonly InputDatasetSpec[];
  readonly output: OutputDatasetSpec;
  /** Why the step failed (FAIL, ABORT), and the language of what failed. */
  readonly error?: { readonly message: string; readonly language: string };
}

/** A JSON object. */
export type JsonObject = { readonly [key: string]: unknown };

/**
 * The OpenLineage `RunEvent` of a step.
 *
 * @example
 * const event = stepRunEvent({ eventType: 'START', eventTime: Date.now(), producer, runId, parent, job, inputs: [], output });
 */
export function stepRunEvent(spec: StepEventSpec): JsonObject {
  const facet = (key: keyof typeof FACET_SCHEMA_URLS, body: JsonObject): JsonObject => ({
    _producer: spec.producer,
    _schemaURL: FACET_SCHEMA_URLS[key],
    ...body,
  });
  const runFacets: Record<string, JsonObject> = {
    parent: facet('parent', {
      run: { runId: spec.parent.runId },
      job: { namespace: spec.parent.namespace, name: spec.parent.name },
    }),
  };
  if (spec.error !== undefined) runFacets.errorMessage = facet('errorMessage', { message: spec.error.message, programmingLanguage: spec.error.language });
  const jobFacets: Record<string, JsonObject> = {
    jobType: facet('jobType', { processingType: 'BATCH', integration: 'STRATA', jobType: 'ASSET' }),
  };
  if (spec.job.sql !== undefined) jobFacets.sourceCode = facet('sourceCode', { language: 'SQL', sourceCode: spec.job.sql });
  const inputs = spec.inputs.map((input) => ({
    namespace: input.namespace,
    name: input.name,
    ...(input.version === undefined ? {} : { facets: { version: facet('version', { datasetVersion: input.version }) } }),
  }));
  return {
    eventType: spec.eventType,
    eventTime: new Date(spec.eventTime).toISOString(),
    producer: spec.producer,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
    run: { runId: spec.runId, facets: runFacets },
    job: { namespace: spec.job.namespace, name: spec.job.name, facets: jobFacets },
    inputs,
    outputs: [outputDataset(spec.output, facet)],
  };
}

function outputDataset(output: OutputDatasetSpec, facet: (key: keyof typeof FACET_SCHEMA_URLS, body: JsonObject) => JsonObject): JsonObject {
  const facets: Record<string, JsonObject> = {};
  if (output.schema !== undefined) {
    facets.schema = facet('schema', { fields: output.schema.map((c, i) => ({ name: c.name, type: c.type, ordinal_position: i + 1 })) });
  }
  if (output.columnLineage !== undefined) {
    const field = (input: ColumnLineageInput) => ({
      namespace: input.namespace,
      name: input.name,
      field: input.field,
      transformations: [{ type: input.type, subtype: input.subtype }],
    });
    const fields: Record<string, JsonObject> = {};
    for (const [name, inputs] of output.columnLineage.fields) fields[name] = { inputFields: inputs.map(field) };
    facets.columnLineage = facet('columnLineage', {
      fields,
      ...(output.columnLineage.dataset.length === 0 ? {} : { dataset: output.columnLineage.dataset.map(field) }),
    });
  }
  if (output.assertions !== undefined && output.assertions.length > 0) {
    facets.dataQualityAssertions = facet('dataQualityAssertions', {
      assertions: output.assertions.map((a) => ({
        assertion: a.assertion,
        name: a.name,
        success: a.success,
        severity: a.severity,
        ...(a.column === undefined ? {} : { column: a.column }),
      })),
    });
  }
  if (output.version !== undefined) facets.version = facet('version', { datasetVersion: output.version });
  const outputFacets = output.rowCount === undefined ? undefined : { outputStatistics: facet('outputStatistics', { rowCount: output.rowCount }) };
  return {
    namespace: output.namespace,
    name: output.name,
    ...(Object.keys(facets).length === 0 ? {} : { facets }),
    ...(outputFacets === undefined ? {} : { outputFacets }),
  };
}
