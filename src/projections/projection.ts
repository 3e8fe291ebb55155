import type Database from 'better-sqlite3';
import type { JsonObject, RecordedEvent } from '../eventStore/eventStore.ts';
import type { DomainEvent } from './eventData.ts';

/**
 * Where and when the log recorded an event; `metadata` in the service's own shape whichever
 * version stored it (`readMetadata`), its sealed personal fields as stored: read them with
 * `keptSealed`.
 */
export type EventEnvelope = Omit<RecordedEvent, 'data'>;

/**
 * One event of the log as every projection gets it, decoded once by the runner
 * (`projectedEvent`): `event` is the domain event upcast to today's format and typed. An
 * event that is not one (a type no schema knows, data that cannot be read) has `event: null`
 * and keeps its stored `data`, for the audit to show what it can of it.
 */
export type ProjectedEvent = EventEnvelope &
  (
    | { readonly event: DomainEvent; readonly data?: undefined }
    | { readonly event: null; readonly data: JsonObject }
  );

/**
 * A read model folded from the global log. Everything it does to the database is
 * synchronous, so the runner can put a batch of `apply` calls and the checkpoint into one
 * SQLite transaction: the rows and the checkpoint commit together or not at all.
 */
export type Projection = {
  /** stable name; also the checkpoint's key */
  readonly name: string;
  /**
   * Raised whenever what `apply` writes changes (a new column, a fixed mapping): a stored
   * checkpoint with another version makes the runner reset and rebuild from position zero.
   */
  readonly version: number;
  /** creates its tables and indexes if missing (idempotent) */
  migrate(db: Database.Database): void;
  /** folds one event in; must not throw for events it does not know (ignore them) */
  apply(db: Database.Database, event: ProjectedEvent): void;
  /**
   * Folds a run of consecutive events in, as `apply` on each would (the default): a
   * projection that can fold several events into fewer writes does it here.
   */
  applyBatch?(db: Database.Database, events: readonly ProjectedEvent[]): void;
  /**
   * For a projection filled from empty (a rebuild, a new version): what to drop before and
   * build after, such as indexes, which are cheaper to build once than to keep up row by row.
   * `after` also runs when the fill stops early; a crash in between leaves `migrate` to
   * build them at the next start.
   */
  readonly bulkLoad?: {
    before(db: Database.Database): void;
    after(db: Database.Database): void;
  };
  /** removes its tables or rows, so that `migrate` then starts it empty */
  reset(db: Database.Database): void;
};
