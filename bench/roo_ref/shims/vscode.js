// Minimal shim: the chunker never touches vscode at runtime (imports are type-only).
module.exports = {}
