/**
 * Validates OpenLineage events against the specification's JSON Schemas vendored in
 * tests/openlineage-spec (ajv, draft 2020-12, with formats: uuid, date-time, uri): the event
 * against OpenLineage.json, then every facet against its own facet schema, found by the facet's
 * `_schemaURL` (the core schema only knows the base facet). A facet whose `_schemaURL` names no
 * vendored schema is a problem too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SPEC_DIR = path.join(import.meta.dirname, 'openlineage-spec');

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => void;

/** Validates events and their facets; built once per test file. */
export class OpenLineageValidator {
  readonly #ajv: Ajv2020;
  readonly #core: ValidateFunction;
  readonly #ids = new Set<string>();
  readonly #facets = new Map<string, ValidateFunction>();

  constructor() {
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    const files = [
      path.join(SPEC_DIR, 'OpenLineage.json'),
      ...fs
        .readdirSync(path.join(SPEC_DIR, 'facets'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => path.join(SPEC_DIR, 'facets', f)),
    ];
    for (const file of files) {
      const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { $id: string };
      this.#ajv.addSchema(schema);
      this.#ids.add(schema.$id);
    }
    this.#core = this.#ajv.getSchema('https://openlineage.io/spec/2-0-2/OpenLineage.json') as ValidateFunction;
  }

  /** Every problem of one event: schema errors of the event and of each facet, and unknown facet schemas. */
  problems(event: unknown): string[] {
    const problems: string[] = [];
    if (!this.#core(event)) problems.push(`event: ${this.#ajv.errorsText(this.#core.errors)}`);
    for (const [where, facet] of facetsOf(event)) {
      const url = typeof facet._schemaURL === 'string' ? facet._schemaURL : '';
      const validate = this.#facetValidator(url);
      if (validate === undefined) problems.push(`${where}: no vendored schema for _schemaURL "${url}"`);
      else if (!validate(facet)) problems.push(`${where}: ${this.#ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  /** How many facets an event has (to show the facet check is not vacuous). */
  facetCount(event: unknown): number {
    return facetsOf(event).length;
  }

  #facetValidator(url: string): ValidateFunction | undefined {
    const [id] = url.split('#');
    if (id === undefined || !this.#ids.has(id) || !url.includes('#/$defs/')) return undefined;
    let validate = this.#facets.get(url);
    if (validate === undefined) {
      validate = this.#ajv.getSchema(url);
      if (validate === undefined) return undefined;
      this.#facets.set(url, validate);
    }
    return validate;
  }
}

type Facet = Record<string, unknown>;

/** Every facet of an event, with where it is. */
function facetsOf(event: unknown): [string, Facet][] {
  const e = event as {
    run?: { facets?: Record<string, Facet> };
    job?: { facets?: Record<string, Facet> };
    inputs?: { name: string; facets?: Record<string, Facet>; inputFacets?: Record<string, Facet> }[];
    outputs?: { name: string; facets?: Record<string, Facet>; outputFacets?: Record<string, Facet> }[];
  };
  const found: [string, Facet][] = [];
  const add = (where: string, facets: Record<string, Facet> | undefined) => {
    for (const [name, facet] of Object.entries(facets ?? {})) found.push([`${where}.${name}`, facet]);
  };
  add('run.facets', e.run?.facets);
  add('job.facets', e.job?.facets);
  for (const input of e.inputs ?? []) {
    add(`inputs[${input.name}].facets`, input.facets);
    add(`inputs[${input.name}].inputFacets`, input.inputFacets);
  }
  for (const output of e.outputs ?? []) {
    add(`outputs[${output.name}].facets`, output.facets);
    add(`outputs[${output.name}].outputFacets`, output.outputFacets);
  }
  return found;
}
