import { join } from 'node:path';
import { exitOf, spawnScript } from '../helpers/spawn-ts';

const WARNINGS_TS = join(__dirname, '..', '..', 'src', 'core', 'process-warnings.ts');
const LOGGER_TS = join(__dirname, '..', '..', 'src', 'core', 'logger.ts');

function child(level: string): string {
  return `
const { routeProcessWarnings } = require(${JSON.stringify(WARNINGS_TS)});
const { createLogger } = require(${JSON.stringify(LOGGER_TS)});
routeProcessWarnings(createLogger({ level: ${JSON.stringify(level)}, format: 'json' }));
setTimeout(() => {}, -5); // what kafkajs's request queue does when it is not throttled
setTimeout(() => {}, -7);
process.emitWarning('the old flag is deprecated', 'DeprecationWarning', 'PT001');
process.emitWarning('the old flag is deprecated', 'DeprecationWarning', 'PT001');
setTimeout(() => {}, 20);
`;
}

function lines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('routeProcessWarnings', () => {
  describe('.process', () => {
    it('logs each distinct warning once as JSON and leaves stderr empty', async () => {
      const result = await exitOf(spawnScript(child('info')));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const recs = lines(result.stdout);
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({
        level: 40,
        component: 'node',
        warning: 'DeprecationWarning',
        code: 'PT001',
        msg: 'the old flag is deprecated',
      });
    });

    it("logs Node's TimeoutNegativeWarning (kafkajs) at debug only", async () => {
      const result = await exitOf(spawnScript(child('debug')));
      expect(result.stderr).toBe('');
      const negative = lines(result.stdout).filter((r) => r.warning === 'TimeoutNegativeWarning');
      expect(negative).toHaveLength(1);
      expect(negative[0]).toMatchObject({ level: 20, component: 'node' });
    });
  });
});
