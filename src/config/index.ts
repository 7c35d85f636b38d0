export { parseDuration } from './duration.ts';
export { envName, knownEnvNames, type LoadOptions, loadConfig } from './load.ts';
export {
  type Config,
  configSchema,
  type DeepReadonly,
  SECRET_KEYS,
  SECTION_NAMES,
  type SectionName,
} from './schema.ts';
