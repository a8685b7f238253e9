import { maskSecrets, isSecretKey, MASK } from '../../src/config/mask-secrets';

describe('maskSecrets', () => {
  describe('.secrets', () => {
    const config = {
      sinks: {
        kafka: {
          brokers: ['k1:9092'],
          key: 'k8s.pod.uid',
          sasl: { mechanism: 'scram-sha-512', username: 'podtrace', password: 's3cret' },
          tls: {
            ca: '-----BEGIN CERTIFICATE-----',
            key: '-----BEGIN PRIVATE KEY-----',
            keyFile: '/etc/tls/tls.key',
          },
        },
        otlp: {
          endpoint: 'https://user:hunter2@collector:4317',
          headers: { authorization: 'Bearer abc', 'x-tenant': 'blue' },
          bearerToken: '',
        },
      },
      telemetry: { listen: '0.0.0.0:9464' },
    };
    const masked = maskSecrets(config);

    it('masks SASL passwords and TLS private keys but not usernames, CAs or file paths', () => {
      expect(masked.sinks.kafka.sasl).toEqual({
        mechanism: 'scram-sha-512',
        username: 'podtrace',
        password: MASK,
      });
      expect(masked.sinks.kafka.tls).toEqual({
        ca: '-----BEGIN CERTIFICATE-----',
        key: MASK,
        keyFile: '/etc/tls/tls.key',
      });
    });

    it('keeps a key named "key" outside a TLS section', () => {
      expect(masked.sinks.kafka.key).toBe('k8s.pod.uid');
    });

    it('masks every header value and the password in a URL', () => {
      expect(masked.sinks.otlp.headers).toEqual({ authorization: MASK, 'x-tenant': MASK });
      expect(masked.sinks.otlp.endpoint).toBe(`https://user:${MASK}@collector:4317`);
    });

    it('leaves an unset secret visibly unset', () => {
      expect(masked.sinks.otlp.bearerToken).toBe('');
    });

    it('does not modify its input', () => {
      expect(config.sinks.kafka.sasl.password).toBe('s3cret');
      expect(config.sinks.otlp.headers.authorization).toBe('Bearer abc');
    });

    it('leaves non-secret values as they are', () => {
      expect(masked.telemetry).toEqual({ listen: '0.0.0.0:9464' });
      expect(masked.sinks.kafka.brokers).toEqual(['k1:9092']);
    });
  });
});

describe('isSecretKey', () => {
  it.each([
    ['password', '', true],
    ['saslPassword', 'kafka', true],
    ['apiKey', '', true],
    ['api-key', '', true],
    ['clientSecret', '', true],
    ['privateKey', '', true],
    ['key', 'tls', true],
    ['key', 'kafka', false],
    ['passwordFile', '', false],
    ['tokenPath', '', false],
    ['username', '', false],
  ])('judges %s (in %s) as %s', (name, parent, expected) => {
    expect(isSecretKey(name, parent)).toBe(expected);
  });
});
