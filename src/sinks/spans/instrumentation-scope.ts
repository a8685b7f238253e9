import packageJson from '../../../package.json';
import type { InstrumentationScope } from './span-model';

/** The instrumentation scope of every podtrace span: `podtrace` and the package version. */
export const PODTRACE_SCOPE: InstrumentationScope = Object.freeze({
  name: 'podtrace',
  version: packageJson.version,
});
