/** Events the server refuses for good: telling them apart, and keeping them in the dead-letter table. */
import { LedgerEventRefusedError } from '../../errors/ledger-event-refused.error';
import { serializeRunEvent } from '../../events/run-event.serializer';
import type { RefusalPolicy, RefusedItem } from '../group-commit.queue';
import type { QueuedRow } from './postgres-append';
import type { PostgresContext } from './postgres-context';

/**
 * SQLSTATE classes in which the server refuses the data itself, so retrying the
 * same rows cannot succeed: 22 data exception, 23 integrity constraint
 * violation (a CHECK or NOT NULL of yours), 54 program limit exceeded (a value
 * too large for an index). Any other failure is treated as transient.
 */
const REFUSED_DATA_CLASSES = new Set(['22', '23', '54']);

/** Whether PostgreSQL refused the data of a statement (see {@link REFUSED_DATA_CLASSES}). */
export function isDataRefusal(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.length === 5 && REFUSED_DATA_CLASSES.has(code.slice(0, 2));
}

/**
 * A batch the server refuses for good is split until the refused events are isolated and set aside;
 * `notifyRefused` then tells the ledger to leave them out of memory. `context` is asked for when a
 * refusal happens (the policy is made before the store has finished constructing).
 */
export function deadLetterPolicy(context: () => PostgresContext, notifyRefused: (eventIds: string[]) => void): RefusalPolicy<QueuedRow> {
  return {
    isPermanent: isDataRefusal,
    setAside: async (refused) => {
      await setAside(context(), refused);
      notifyRefused(refused.map((r) => r.item.event.eventId));
    },
    errorFor: (refused) =>
      new LedgerEventRefusedError(
        refused.map((r) => r.item.event.eventId),
        context().names.refusedQualified,
        refused[0].error,
      ),
  };
}

/**
 * Keeps events the server refused in the dead-letter table (`<table>_rejected`) and logs each with its id.
 * The row holds the event's JSON as text, which any refused value fits in.
 */
async function setAside({ pool, names, logger }: PostgresContext, refused: RefusedItem<QueuedRow>[]): Promise<void> {
  await pool.query(
    `INSERT INTO ${names.refused} (event_id, sqlstate, error, event)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
    [
      refused.map((r) => r.item.event.eventId.replaceAll('\u0000', '\uFFFD')),
      refused.map((r) => (r.error as { code?: string }).code ?? null),
      refused.map((r) => r.error.message),
      refused.map((r) => serializeRunEvent(r.item.event, Infinity)),
    ],
  );
  for (const { item, error } of refused) {
    logger.error(
      `Event ${item.event.eventId} (task ${item.event.taskId}) was refused by PostgreSQL (${(error as { code?: string }).code ?? 'no SQLSTATE'}: ${error.message}); ` +
        `it is kept in ${names.refusedQualified} and left out of the ledger; the other events of its batch were written`,
    );
  }
}
