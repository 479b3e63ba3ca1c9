/**
 * The run event's public types, from their homes: the value types from `run-event.values`, the
 * event itself from `run-event.schema`. The import path the rest of the library and the package
 * index use; it defines nothing, so nothing here can form a cycle.
 */
export * from './run-event.values';
export type { RunEvent, RunEventInput } from './run-event.schema';
export { RUN_EVENT_FIELDS } from './run-event.schema';
