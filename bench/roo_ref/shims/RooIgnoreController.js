// Shim for src/core/ignore/RooIgnoreController (only used by tree-sitter/index.ts's
// parseSourceCodeDefinitionsForFile, never by the code-index chunker).
class RooIgnoreController { constructor() {} async initialize() {} validateAccess() { return true } filterPaths(p) { return p } }
module.exports = { RooIgnoreController }
