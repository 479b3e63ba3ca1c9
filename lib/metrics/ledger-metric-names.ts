/** The ledger's OpenTelemetry instruments: name, unit and meaning (docs/operations.md lists them). */
export const LEDGER_METRICS = {
  eventsAppended: { name: 'ledger.events.appended', unit: '{event}', description: 'Events made durable by this process' },
  batchSize: { name: 'ledger.write.batch.size', unit: '{event}', description: 'Events per durable write (one fdatasync, one COPY)' },
  writeDuration: { name: 'ledger.write.duration', unit: 's', description: 'Time of one durable write, from start to fdatasync or commit' },
  writeFailures: { name: 'ledger.write.failures', unit: '{failure}', description: 'Failed writes, by cause (error.type: ENOSPC, a SQLSTATE, ...)' },
  backlog: { name: 'ledger.backlog', unit: '{event}', description: 'Events waiting in memory to be written' },
  corruptLines: { name: 'ledger.corrupt_lines', unit: '{line}', description: 'Stored lines or rows that are not valid events (skipped on read)' },
  compactionRuns: { name: 'ledger.compaction.runs', unit: '{run}', description: 'Compactions run by this process' },
  compactionEvicted: { name: 'ledger.compaction.evicted', unit: '{event}', description: 'Events evicted by compaction' },
  compactionDuration: { name: 'ledger.compaction.duration', unit: 's', description: 'Time of one compaction' },
  feedDelay: {
    name: 'ledger.feed.delay',
    unit: 's',
    description: "PostgreSQL: time from an insert (its transaction's start, server clock) to this replica's feed reading it",
  },
} as const;
