/** The parts of `pg`'s pool and client the driver uses, declared without importing `pg`. */
/**
 * The part of a `pg` client the PostgreSQL store uses: a `pg.PoolClient` fits it.
 * Declared here so that the ledger's public typings never import `pg`: an
 * NDJSON-only application compiles without `pg` or `@types/pg`.
 */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}

/** The part of a `pg.Pool` the PostgreSQL store uses: pass your `new Pool(...)` as `storage.pool`. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  connect(): Promise<PgClientLike>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}
