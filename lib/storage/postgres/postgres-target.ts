/** Where the store points (host, port, database, user), without the password, for messages. */
import type { PgPoolLike } from './pg-pool.interface';

/** Where a PostgreSQL storage points, for messages: never its password. */
export interface PostgresTarget {
  /** `user@host:port/database`. */
  description: string;
  /** `host:port`. */
  hostPort: string;
  host: string;
  /** The password of the connection string, to keep it out of messages; undefined when there is none. */
  password: string | undefined;
}

/** The settings a `pg.Pool` keeps of its constructor's options (not part of `PgPoolLike`: read if there). */
interface PoolSettings {
  connectionString?: string;
  host?: string;
  port?: number | string;
  database?: string;
  user?: string;
  password?: unknown;
}

/**
 * Where `connectionString`, or the given pool, points: what the URL says, the rest filled in
 * the way `pg` does (the `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE` variables, then localhost:5432).
 */
export function describePostgresTarget(connectionString: string | undefined, pool?: PgPoolLike): PostgresTarget {
  const settings: PoolSettings = { ...((pool as { options?: PoolSettings } | undefined)?.options ?? {}) };
  const url = parseUrl(connectionString ?? settings.connectionString);
  if (url) {
    settings.host = url.hostname || url.searchParams.get('host') || settings.host;
    settings.port = url.port || settings.port;
    settings.database = decodeURIComponent(url.pathname.slice(1)) || settings.database;
    settings.user = decodeURIComponent(url.username) || settings.user;
    settings.password = decodeURIComponent(url.password) || settings.password;
  }
  const host = settings.host || process.env.PGHOST || 'localhost';
  const hostPort = `${host}:${String(settings.port || process.env.PGPORT || 5432)}`;
  const user = settings.user || process.env.PGUSER;
  const database = settings.database || process.env.PGDATABASE || user;
  return {
    description: `${user ? `${user}@` : ''}${hostPort}${database ? `/${database}` : ''}`,
    hostPort,
    host,
    password: typeof settings.password === 'string' && settings.password.length > 0 ? settings.password : undefined,
  };
}

function parseUrl(connectionString: string | undefined): URL | undefined {
  if (!connectionString) return undefined;
  try {
    return new URL(connectionString);
  } catch {
    return undefined;
  }
}
