/** Which failures to open the store are worth retrying, and what to check for each. */
import type { PostgresTarget } from './postgres-target';

/**
 * SQLSTATE classes in which the server understood the ledger's startup statements and refuses to
 * run them on this server: 0A feature not supported, 42 syntax error or access rule violation (a
 * server older than PostgreSQL 13 without `xid8`, a missing privilege). Waiting does not change them.
 */
const LASTING_CLASSES = new Set(['0A', '42']);

/**
 * Whether the driver's error says opening failed for a reason no retry can cure: a statement the server
 * refuses (see {@link LASTING_CLASSES}). Anything else is retried:
 * network errors, timeouts, a server starting or shutting down, too many connections, and also a
 * refused password or a missing database, which in container setups are often created by an init job
 * after the server already accepts connections.
 */
export function isLastingOpenFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.length === 5 && LASTING_CLASSES.has(code.slice(0, 2));
}

/** What to check after opening failed with `err`: a clause following "Check ". */
export function whatToCheck(err: Error, target: PostgresTarget): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return `that PostgreSQL is running and listening on ${target.hostPort} (the host and port of storage.connectionString)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `that the host name ${target.host} of storage.connectionString resolves from here`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `that ${target.hostPort} is reachable from here (firewall, security group, network policy)`;
    case 'ECONNRESET':
      return `the TLS settings (sslmode in storage.connectionString) and that the server at ${target.hostPort} is not restarting`;
    case '28P01':
    case '28000':
      return "the user name and password in storage.connectionString, and that the server's pg_hba.conf lets this user connect from this host";
    case '3D000':
      return `that the database exists on ${target.hostPort} (CREATE DATABASE) and is the one storage.connectionString names`;
    case '42501':
      return 'that the user may create the schema (CREATE on the database, or an existing storage.schema) and tables in it: the ledger creates or migrates its tables at startup';
    case '53300':
      return "the server's max_connections: it has no connection left for this replica";
    case '57P03':
      return 'the server: it is still starting; give it longer with storage.retryAttempts and storage.retryDelayMs';
  }
  if (typeof code === 'string' && LASTING_CLASSES.has(code.slice(0, 2))) {
    return 'that the server is PostgreSQL 13 or later and that the user may create and alter the ledger tables';
  }
  if (/timeout/i.test(err.message)) {
    return `that ${target.hostPort} is reachable from here (firewall, security group, network policy) and that the server is not overloaded`;
  }
  return `the server's log at ${target.hostPort}`;
}
