import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';

const SCHEMAS = join(__dirname, '..', '..', 'config', 'schemas');
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowMatchingProperties: true });

function load(name: string): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, name), 'utf8')) as object);
}

/** The shipped JSON Schemas of the Kafka record values. */
export const validateKafkaEvent = load('kafka-event.schema.json');
export const validateKafkaLoss = load('kafka-loss.schema.json');

/** Throws with ajv's errors when `value` does not validate. */
export function assertValid(validate: ValidateFunction, value: unknown, what: string): void {
  if (!validate(value))
    throw new Error(
      `${what} does not validate: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`,
    );
}
