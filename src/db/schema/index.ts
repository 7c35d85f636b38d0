// Table definitions, one file per owning module. Re-exported here for drizzle and drizzle-kit.
export * from './bridge.ts';
export * from './classification.ts';
export * from './crm.ts';
export * from './history.ts';
export * from './jobs.ts';
export * from './wazo.ts';
