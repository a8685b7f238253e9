/**
 * A JSON Schema fragment (draft 2020-12 subset as ajv validates it). Each component declares its
 * section next to its code — `<component>-config.ts` exports the schema, the typed config and
 * the named default constants — and src/config/schema.ts assembles them.
 */
export type JsonSchema = Record<string, unknown>;
