/** The results store: interface, SQLite implementation, errors. */
export { compareRecords, toListItem } from './compare.ts';
export { isUnknownRun, StoreError, type StoreErrorCode, UnknownRunError } from './errors.ts';
export { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.ts';
export {
  DEFAULT_DB_PATH,
  DEFAULT_TRANSCRIPT_LIMIT,
  newRunId,
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
} from './sqlite-store.ts';
export type * from './types.ts';

import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
import type { RunStore } from './types.ts';

/** Opens the default store (SQLite at `path`, default ./data/cpobench.db). */
export function openStore(path?: string, options?: SqliteStoreOptions): RunStore {
  return openSqliteStore(path, options);
}
