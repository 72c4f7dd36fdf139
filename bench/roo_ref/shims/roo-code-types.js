// Shim for @roo-code/types: only the two values the chunker modules use,
// copied from packages/types/src/codebase-index.ts and telemetry.ts at Roo HEAD cb836567.
const CODEBASE_INDEX_DEFAULTS = {
  MIN_SEARCH_RESULTS: 10, MAX_SEARCH_RESULTS: 200, DEFAULT_SEARCH_RESULTS: 50, SEARCH_RESULTS_STEP: 10,
  MIN_SEARCH_SCORE: 0, MAX_SEARCH_SCORE: 1, DEFAULT_SEARCH_MIN_SCORE: 0.4, SEARCH_SCORE_STEP: 0.05,
}
const TelemetryEventName = { CODE_INDEX_ERROR: "Code Index Error" }
module.exports = { CODEBASE_INDEX_DEFAULTS, TelemetryEventName }
