import type { JsonSchema } from './schema-types';

/** One configurable key: a schema node that is not an object with named properties. */
export interface SchemaKey {
  /** Dotted key path: `source.ebpf.probes`. */
  path: string;
  hasDefault: boolean;
  default: unknown;
}

/**
 * Every key the schema accepts, depth first in declaration order. Objects with `properties` are
 * walked; anything else (scalars, arrays, free-form maps) is a key of its own.
 */
export function schemaKeys(schema: JsonSchema, prefix = ''): SchemaKey[] {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props === undefined || Object.keys(props).length === 0) {
    return prefix === '' ? [] : [{ path: prefix, hasDefault: 'default' in schema, default: schema.default }];
  }
  return Object.entries(props).flatMap(([name, child]) =>
    schemaKeys(child, prefix ? `${prefix}.${name}` : name),
  );
}
