/**
 * The family of errors the library throws: every error class of nestjs-ledger extends it.
 * Catch it to handle them all (`err instanceof LedgerError`); each subclass says what
 * happened and carries its details (`LedgerValidationError.field`, `LedgerWriteError.code`, ...).
 */
export abstract class LedgerError extends Error {}
