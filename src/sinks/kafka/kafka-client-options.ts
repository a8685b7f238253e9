import { readFileSync } from 'node:fs';
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import { logLevel as KafkaLogLevel } from './kafkajs';
import type { Logger } from '../../core/logger';
import { ConfigError, errorMessage } from '../../core/errors';
import type { KafkaSinkConfig } from './kafka-config';

/** Retries inside one kafkajs call: short, so the sink's own backoff loop (which never gives up while the buffer holds) stays in charge. */
const KAFKAJS_RETRY = { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 };
const CONNECTION_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 10000;

function readPem(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`sinks.kafka.${key}: ${JSON.stringify(path)} cannot be read: ${errorMessage(err)}`);
  }
}

/** Reads the SASL password from its file or environment variable. The value is never logged. */
function saslOptions(cfg: KafkaSinkConfig, env: NodeJS.ProcessEnv): SASLOptions | undefined {
  const sasl = cfg.sasl;
  if (sasl === undefined) return undefined;
  let password: string;
  if (sasl.passwordFile !== undefined) {
    try {
      password = readFileSync(sasl.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(
        `sinks.kafka.sasl.passwordFile: ${JSON.stringify(sasl.passwordFile)} cannot be read: ${errorMessage(err)}`,
      );
    }
  } else {
    const name = sasl.passwordEnv ?? '';
    const value = env[name];
    if (value === undefined || value === '')
      throw new ConfigError(
        `sinks.kafka.sasl.passwordEnv: ${JSON.stringify(name)} is not set in the environment`,
      );
    password = value;
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password };
}

/** kafkajs splits broker addresses at ':', so bracketed IPv6 literals cannot be used. */
function checkBrokers(brokers: readonly string[]): void {
  if (brokers.length === 0)
    throw new ConfigError(
      'sinks.kafka.brokers: [] must list at least one host:port when sinks.kafka.enabled is true',
    );
  brokers.forEach((b, i) => {
    if (b.startsWith('['))
      throw new ConfigError(
        `sinks.kafka.brokers[${i}]: ${JSON.stringify(b)} is an IPv6 literal, which kafkajs cannot connect to; use a host name`,
      );
  });
}

/** Routes kafkajs's own logs into pino at debug level (its connection errors repeat on every retry; the sink logs outages itself). */
function logCreatorFor(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry): void => {
      const { message, timestamp: _t, ...extra } = entry;
      if (level <= KafkaLogLevel.WARN) log.debug({ namespace, ...extra }, message);
      else log.trace({ namespace, ...extra }, message);
    };
}

/** The kafkajs client configuration for a validated `sinks.kafka` section. Throws ConfigError naming the key. */
export function kafkaClientOptions(
  cfg: KafkaSinkConfig,
  deps: { logger: Logger; env: NodeJS.ProcessEnv },
): KafkaConfig {
  checkBrokers(cfg.brokers);
  const options: KafkaConfig = {
    clientId: cfg.clientId,
    brokers: [...cfg.brokers],
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: KAFKAJS_RETRY,
    logLevel: KafkaLogLevel.WARN,
    logCreator: logCreatorFor(deps.logger),
  };
  if (cfg.tls !== undefined) {
    const t = cfg.tls;
    options.ssl = {
      ...(t.ca !== undefined ? { ca: [readPem(t.ca, 'tls.ca')] } : {}),
      ...(t.cert !== undefined ? { cert: readPem(t.cert, 'tls.cert') } : {}),
      ...(t.key !== undefined ? { key: readPem(t.key, 'tls.key') } : {}),
    };
  }
  const sasl = saslOptions(cfg, deps.env);
  if (sasl !== undefined) options.sasl = sasl;
  return options;
}
