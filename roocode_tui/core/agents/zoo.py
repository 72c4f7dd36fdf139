"""Zoo Code's codebase index (extension ``ZooCodeOrganization.zoo-code``, Roo Code's community
successor): its profile.

Zoo Code forked Roo Code and keeps its Qdrant layout: the collection name, point ids, payload and
metadata point are Roo Code's (:mod:`roocode_tui.core.agents.roo`), so one workspace's index is
one collection whichever of the two built it. What differs, read from Zoo-Code-Org/Zoo-Code main
at 3dcac600 (2026-08-22) against Roo Code at cb836567 (bench/zoo_ref/NOTES.md has each with its
file and line):

* ``.txt`` is indexed and always chunked by lines (src/services/shared/fallback-extensions.ts);
* ``.dart`` is indexed and parsed with Zoo Code's own query (tree-sitter/queries/dart.ts, below)
  and the Dart grammar of tree-sitter-wasms 0.1.13; the pack's grammar here has the same node
  types and fields;
* tree-sitter-wasms 0.1.13 rebuilt the Zig grammar (tree-sitter-zig 1.1) and the TLA+ one
  (tree-sitter-tlaplus 1.5.0); the grammars here stay Roo Code's (one version of each can be
  installed), which bench/roo_check.py measures;
* the cache file keeps Roo Code's name, in Zoo Code's global storage
  (``zoocodeorganization.zoo-code``).

Zoo Code's ripgrep runs from the workspace on ``.`` (glob/list-files.ts), so the ignored names
are matched below the workspace only, as the walker here matches them for both agents. It reads
``.rooignore`` (core/ignore/RooIgnoreController.ts is Roo Code's): there is no ``.zooignore``.
"""

from __future__ import annotations

import dataclasses

from roocode_tui.core.agents import roo, roo_tree

ZOO_COMMIT = "3dcac600b9d13b1d6882749947b6f380e2e4b8df"

# src/services/tree-sitter/queries/dart.ts at ZOO_COMMIT, unchanged
DART = r"""
(class_definition
  name: (identifier) @name) @definition.class

(class_definition
  (mixin_application_class
    (identifier) @name)) @definition.class

(type_alias
  (type_identifier) @name) @definition.type

(declaration
  (function_signature
    name: (identifier) @name)) @definition.method

(redirecting_factory_constructor_signature
  (identifier) @name) @definition.method

(method_signature) @definition.method

(constructor_signature
  name: (identifier) @name) @definition.method

(constant_constructor_signature
  (identifier) @name) @definition.method

(mixin_declaration
  (mixin)
  (identifier) @name) @definition.mixin

(extension_declaration
  name: (identifier) @name) @definition.extension

(extension_type_declaration
  name: (identifier) @name) @definition.extension

(enum_declaration
  name: (identifier) @name) @definition.enum

(program
  (getter_signature
    name: (identifier) @name) @definition.function)

(program
  (setter_signature
    name: (identifier) @name) @definition.function)

(program
  (function_signature
    name: (identifier) @name) @definition.function)
"""

#: Roo Code's dialect with Dart (tree-sitter/languageParser.ts: case "dart")
DIALECT = roo_tree.ROO.extend("zoo", {"dart": ("dart", "DART")}, {"DART": DART})

#: tree-sitter/index.ts `extensions` adds "txt" and "dart"
EXTENSIONS = roo.EXTENSIONS | {".txt", ".dart"}
#: shared/fallback-extensions.ts fallbackExtensions: [".txt", ".vb", ".scala", ".swift"]
LINE_CHUNKED = roo.FALLBACK_EXTENSIONS | {".txt"}

ZOO = dataclasses.replace(
    roo.ROO,
    name="zoo-code",
    key="zoo",
    label="Zoo Code",
    source=f"Zoo-Code-Org/Zoo-Code@{ZOO_COMMIT}",
    extensions=EXTENSIONS,
    line_chunked=LINE_CHUNKED,
    dialect=DIALECT,
    extension_id="zoocodeorganization.zoo-code",
)


def split(text: str, abs_path: str) -> list[roo.Block]:
    """The blocks Zoo Code's parser makes of a file (processors/parser.ts parseContent())."""
    return roo.split(text, abs_path, ZOO)
