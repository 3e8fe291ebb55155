import type Database from 'better-sqlite3';

/**
 * The most memory SQLite's own page cache may hold per connection, in KiB: SQLite's own
 * default. better-sqlite3 builds SQLite with 16 MB a connection, and the service keeps eight
 * connections open across its threads (the log's reader, writer and projection reader, the
 * read models' writer and reader, snapshots, keys, the runner's lock): on a log of a few
 * hundred thousand events each one filled its cache, which was most of what the process held
 * beyond its JavaScript heaps. The pages dropped from it stay in the operating system's file
 * cache, outside the process's resident set: a miss is a `pread` from memory, not a seek —
 * and the hot pages (the B-trees' upper levels, a table's newest leaves) stay in this one.
 */
export const PAGE_CACHE_KIB = 2048;

/** Bounds `db`'s page cache to PAGE_CACHE_KIB; called on every connection that holds data (the runner's lock holds none). */
export function boundPageCache(db: Database.Database): void {
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}
