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
/** One schema per topic of the breadth groups. */
export const validateKafkaSignal = load('kafka-signal.schema.json');
export const validateKafkaDns = load('kafka-dns.schema.json');
export const validateKafkaFile = load('kafka-file.schema.json');
export const validateKafkaSched = load('kafka-sched.schema.json');

/** The schema of the topic an event name is written to. */
export function kafkaValidatorFor(eventName: unknown): ValidateFunction {
  const group = typeof eventName === 'string' ? eventName.split('.')[0] : '';
  if (eventName === 'process.signal') return validateKafkaSignal;
  if (group === 'dns') return validateKafkaDns;
  if (group === 'file') return validateKafkaFile;
  if (group === 'sched') return validateKafkaSched;
  return validateKafkaEvent;
}

/** Throws with ajv's errors when `value` does not validate. */
export function assertValid(validate: ValidateFunction, value: unknown, what: string): void {
  if (!validate(value))
    throw new Error(
      `${what} does not validate: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`,
    );
}
