/**
 * The OpenTelemetry semantic-conventions version every attribute name podtrace emits follows, as
 * the `schema_url` of every resource and scope (spans and logs). A test checks the names against
 * the installed `@opentelemetry/semantic-conventions` and that this version is the one that
 * package was generated from: bump both together.
 */
export const SEMCONV_VERSION = '1.41.0';
export const SEMCONV_SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;
