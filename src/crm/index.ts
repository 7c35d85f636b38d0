/** Stage 3: export classified conversations, people and follow-up tasks to Twenty CRM. */
export { TwentyClient, TwentySchemaError } from './client.ts';
export {
  assertTwentyConfigured,
  type ExportDeps,
  type ExportOptions,
  type ExportReport,
  exportToTwenty,
  runExport,
} from './export.ts';
export { type ForgetReport, forgetCustomer } from './forget.ts';
export { normalisePhone, recordId, splitName } from './mapping.ts';
