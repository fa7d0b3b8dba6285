// Public API of the graph format: parse, validate and normalise user graphs.

export { cycleIssues, danglingIssues, referenceIssues } from './checks.js';
export { parseDuration } from './durations.js';
export { fromPointer, GraphError, type GraphErrorCode, type GraphIssue, toPointer } from './graph-error.js';
export type { RawGraph, RawTask } from './normalise.js';
export { normaliseGraph, type ParseGraphOptions, parseGraph } from './parse-graph.js';
export { graphSchema, schemaIssues } from './schema.js';
export { detectFormat, type GraphFormat, parseSource } from './source.js';
