import { z, type ZodType } from 'zod';

export type JsonSchema = Record<string, unknown>;
export type SchemaIo = 'input' | 'output';

const REF_PREFIX = '#/components/schemas/';

function rewriteRefs(node: unknown, rename: Map<string, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, rename));
  if (typeof node !== 'object' || node === null) return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
      const id = v.slice('#/$defs/'.length);
      out[k] = REF_PREFIX + (rename.get(id) ?? id);
    } else {
      out[k] = rewriteRefs(v, rename);
    }
  }
  return out;
}

/**
 * Turns zod schemas into OpenAPI 3.1 schemas (JSON Schema 2020-12). A schema with
 * `.meta({ id })` becomes a component referenced by `$ref`. Requests are described by what
 * the schema accepts (`io: 'input'`), responses by what it produces; when one id would need
 * two different shapes, the request's is named `<id>Input`.
 */
export class SchemaRegistry {
  readonly components: Record<string, JsonSchema> = {};

  schema(schema: ZodType, io: SchemaIo): JsonSchema {
    const json = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      override: (ctx) => {
        // the regex zod writes for date-time repeats what `format` already says
        if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
      },
    }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    const rename = new Map<string, string>();
    for (const [id, def] of Object.entries(defs)) rename.set(id, this.nameFor(id, def, io));
    for (const [id, def] of Object.entries(defs)) this.components[rename.get(id)!] = rewriteRefs(def, rename) as JsonSchema;
    return rewriteRefs(json, rename) as JsonSchema;
  }

  private nameFor(id: string, def: JsonSchema, io: SchemaIo): string {
    const text = JSON.stringify(rewriteRefs(def, new Map()));
    const same = (name: string) => this.components[name] === undefined || JSON.stringify(this.components[name]) === text;
    if (same(id)) return id;
    const alt = `${id}${io === 'input' ? 'Input' : 'Output'}`;
    if (same(alt)) return alt;
    throw new Error(`OpenAPI component ${id} has a third shape; give one of its uses another id`);
  }

  /** The properties of an object schema, for query and path parameters. */
  properties(schema: ZodType): Array<{ name: string; required: boolean; schema: JsonSchema }> {
    const json = this.schema(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    return Object.entries(props).map(([name, s]) => {
      const { description, ...rest } = s;
      return { name, required: required.has(name), schema: { ...rest, ...(description ? { description } : {}) } };
    });
  }
}
