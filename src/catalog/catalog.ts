/**
 * The operator's topic catalog (MCP_TOPIC_CATALOG_FILE, YAML or JSON): what topics mean (a
 * description and a unit for readers) and which command values are safe (a JSON Schema a publish
 * must meet, and whether the user must confirm it). The only importer of the JSON Schema
 * validator (Ajv, draft 2020-12); the YAML parser is shared with config/brokers-file.ts.
 *
 * An entry applies to the topics its filter matches; when several match, the one with the most
 * literal levels wins, then the one first in the file. The catalog never widens the write policy:
 * it is consulted after the policy allowed a publish, and can only refuse it or ask for a
 * confirmation.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { topicFilterProblem, topicMatches } from '../mqtt/topic.js';

const MAX_ENTRIES = 10_000;
const MAX_FILE_BYTES = 4 * 1024 * 1024;

const JsonSchemaObject = z.union([z.record(z.string(), z.unknown()), z.boolean()]);

const EntrySchema = z
  .object({
    filter: z.string(),
    description: z.string().max(1000).optional(),
    unit: z.string().max(64).optional(),
    schema: JsonSchemaObject.optional(),
    publish: z
      .object({ schema: JsonSchemaObject.optional(), confirm: z.boolean().optional() })
      .strict()
      .optional(),
  })
  .strict();

const FileSchema = z.object({ topics: z.array(z.unknown()).max(MAX_ENTRIES) }).strict();

export type CatalogEntryJson = z.infer<typeof EntrySchema>;

export interface CatalogEntry {
  readonly filter: string;
  readonly description: string | undefined;
  readonly unit: string | undefined;
  readonly schema: unknown;
  readonly publishSchema: unknown;
  readonly confirm: boolean;
  /** Literal levels of the filter: the more, the more specific. */
  readonly specificity: number;
  readonly validatePublish: ValidateFunction | undefined;
}

export class Catalog {
  constructor(
    readonly entries: readonly CatalogEntry[],
    /** The file as the operator wrote it, for the mqtt://catalog resource. */
    readonly json: { readonly topics: readonly CatalogEntryJson[] },
  ) {}

  static readonly EMPTY = new Catalog([], { topics: [] });

  /** The entry that applies to a topic: the most literal levels first, then file order. */
  entryFor(topic: string): CatalogEntry | undefined {
    let best: CatalogEntry | undefined;
    for (const entry of this.entries) {
      if (!topicMatches(entry.filter, topic)) continue;
      if (best === undefined || entry.specificity > best.specificity) best = entry;
    }
    return best;
  }

  /** What readers see of a topic's entry: its description and unit (absent when neither is set). */
  about(topic: string): { description?: string; unit?: string } | undefined {
    const entry = this.entryFor(topic);
    if (entry === undefined || (entry.description === undefined && entry.unit === undefined))
      return undefined;
    return {
      ...(entry.description !== undefined ? { description: entry.description } : {}),
      ...(entry.unit !== undefined ? { unit: entry.unit } : {}),
    };
  }

  /** Must the user confirm a publish to this topic? */
  needsConfirmation(topic: string): boolean {
    return this.entryFor(topic)?.confirm === true;
  }

  /**
   * Why this payload may not be published to the topic (the constraints it fails, from the
   * operator's schema), or undefined. The payload is read as JSON when it parses, else as a string.
   */
  publishProblem(topic: string, payload: Buffer): string | undefined {
    const validate = this.entryFor(topic)?.validatePublish;
    if (validate === undefined) return undefined;
    const text = payload.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    if (validate(value)) return undefined;
    return describeErrors(validate.errors ?? []);
  }
}

/** Ajv's errors in short words: where (a JSON pointer into the payload) and which constraint. */
function describeErrors(errors: readonly ErrorObject[]): string {
  const parts = errors.slice(0, 5).map((e) => {
    const where = e.instancePath === '' ? 'the payload' : `the payload at ${e.instancePath}`;
    const allowed =
      e.keyword === 'enum' && Array.isArray((e.params as { allowedValues?: unknown }).allowedValues)
        ? `: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues).slice(0, 300)}`
        : '';
    return `${where} ${e.message ?? 'is not valid'} (${e.keyword})${allowed}`;
  });
  return parts.join('; ');
}

/**
 * Parse and check a catalog file. Every problem is listed (with the entry's position), as for the
 * rest of the configuration; nothing of the file's content is quoted but filters and keywords.
 */
export function parseCatalog(data: Buffer, path: string): { catalog: Catalog } | { problems: string[] } {
  const name = 'MCP_TOPIC_CATALOG_FILE';
  if (data.byteLength > MAX_FILE_BYTES)
    return { problems: [`${name}: ${path} is larger than ${MAX_FILE_BYTES} bytes`] };
  let document: unknown;
  try {
    // YAML 1.2 reads JSON as it is.
    document = parseYaml(data.toString('utf8'), { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    return {
      problems: [`${name}: ${path} is not valid YAML or JSON${line !== undefined ? ` (line ${line})` : ''}`],
    };
  }
  const file = FileSchema.safeParse(document);
  if (!file.success)
    return {
      problems: [
        `${name}: ${path} must hold an object with a "topics" list (at most ${MAX_ENTRIES} entries) and nothing else`,
      ],
    };
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateSchema: true });
  const problems: string[] = [];
  const entries: CatalogEntry[] = [];
  const json: CatalogEntryJson[] = [];
  file.data.topics.forEach((raw, i) => {
    const at = `${name}: entry ${i + 1}`;
    const parsed = EntrySchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${at}${issue.path.length > 0 ? ` (${issue.path.join('.')})` : ''}: ${issue.message}`);
    }
    // The filter and the schemas are checked even when another field is wrong: every problem at once.
    const e = (parsed.success ? parsed.data : raw) as Partial<CatalogEntryJson>;
    if (typeof e.filter === 'string') {
      const filterProblem = topicFilterProblem(e.filter);
      if (filterProblem !== undefined) problems.push(`${at}: filter: ${filterProblem}`);
    }
    const compile = (schema: unknown, field: string): ValidateFunction | undefined => {
      if (schema === undefined || (typeof schema !== 'object' && typeof schema !== 'boolean'))
        return undefined;
      try {
        return ajv.compile(schema as object);
      } catch (error) {
        problems.push(
          `${at}: ${field} is not a valid JSON Schema (2020-12): ${(error as Error).message.slice(0, 200)}`,
        );
        return undefined;
      }
    };
    compile(e.schema, 'schema');
    const validatePublish = compile(e.publish?.schema, 'publish.schema');
    if (!parsed.success || typeof e.filter !== 'string') return;
    entries.push({
      filter: e.filter,
      description: e.description,
      unit: e.unit,
      schema: e.schema,
      publishSchema: e.publish?.schema,
      confirm: e.publish?.confirm === true,
      specificity: e.filter.split('/').filter((l) => l !== '+' && l !== '#').length,
      validatePublish,
    });
    json.push(parsed.data);
  });
  return problems.length > 0 ? { problems } : { catalog: new Catalog(entries, { topics: json }) };
}
