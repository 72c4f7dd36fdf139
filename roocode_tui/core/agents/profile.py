"""What one VS Code coding agent does its own way when it indexes a workspace into Qdrant.

Roo Code and the agents forked from it (Zoo Code, Kilo Code) share one indexer design: a scanner
that lists the workspace with ripgrep and filters it, a chunker (markdown sections, tree-sitter
captures of its per-language queries, line chunks), uuid5 point ids of a segmentHash, a payload
per block, a metadata point, and a cache file of file hashes in VS Code's global storage. An
:class:`AgentProfile` holds what one agent does differently, so that the shared code
(:mod:`roocode_tui.core.agents.roo` for names, file selection and blocks;
:mod:`roocode_tui.core.agents.roo_tree` for tree-sitter; :mod:`roocode_tui.core.agents.roo_qdrant`
for the collection; :mod:`roocode_tui.core.agents.roo_cache` for the cache file) follows it.

The profiles: ``roo.ROO`` (Roo Code, the reference) and ``zoo.ZOO`` (Zoo Code).

Adding an agent. Its profile is Roo Code's with its own values (``dataclasses.replace``, as
``zoo.ZOO`` is made); each field says which source file of the agent it reproduces. What data
cannot say is a function or a method:

* ``line_chunker``: the line-based chunking (parser.ts _chunkTextByLines), for an agent with
  another remainder rule;
* ``dialect`` (``roo_tree.Dialect``): grammars, queries (an agent's own Java query) and node
  reshaping for the tree-sitter path; the line fallback where no grammar or query is usable is
  ``roo.split``'s;
* on the Qdrant side, a subclass of ``roo_qdrant.RooSchema`` (as ``zoo_qdrant.ZooSchema``)
  overriding ``block_payload`` (payload keys such as a fileHash), ``marker_id`` and
  ``marker_payload`` (another metadata point), ``ensure_collection`` (a collection recreated
  when its metadata point differs) and ``write_cache`` (another cache format or place); point
  ids are ``Block.id`` (uuid5 of the segmentHash), the scanner's in Roo Code and its forks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roocode_tui.core.agents.roo_tree import Dialect


@dataclass(frozen=True)
class AgentProfile:
    # -- who ---------------------------------------------------------------------------------
    #: the agent's package name (``roo-cline``'s agent is "roo-code", Zoo's "zoo-code")
    name: str
    #: the ``index --schema`` value that builds its index
    key: str
    #: its name in messages ("Roo Code")
    label: str
    #: the repository and commit whose source this profile follows
    source: str

    # -- file selection (processors/scanner.ts, glob/list-files.ts, glob/constants.ts) -------
    #: the scanner's extensions, with the dot, lower case (shared/supported-extensions.ts)
    extensions: frozenset[str]
    #: extensions always chunked by lines (shared/supported-extensions.ts fallbackExtensions)
    line_chunked: frozenset[str]
    #: extensions listed but never parsed (no parser loads for them): no block at all
    no_parser: frozenset[str]
    #: extensions split by markdown headers (tree-sitter/markdownParser.ts)
    markdown: frozenset[str]
    #: directory names never entered (glob/constants.ts DIRS_TO_IGNORE; names starting with "."
    #: are left out too), and the two-part ones (``target/dependency``)
    ignored_names: frozenset[str]
    ignored_dir_pairs: tuple[tuple[str, str], ...]
    #: ignore files the scanner reads at the workspace root itself, besides ``.gitignore``
    #: (core/ignore/RooIgnoreController.ts)
    root_ignore_files: tuple[str, ...]
    #: files larger than this are skipped (code-index/constants MAX_FILE_SIZE_BYTES)
    max_file_bytes: int

    # -- chunks ------------------------------------------------------------------------------
    #: the tree-sitter half: grammars, queries, node reshaping (roo_tree.Dialect)
    dialect: Dialect
    #: processors/parser.ts _chunkTextByLines (lines, path, seen hashes, first line) -> blocks
    line_chunker: Callable[..., list[Any]]

    # -- the cache file (code-index/cache-manager.ts) ----------------------------------------
    #: VS Code's global storage directory of the extension (its id, lower case)
    extension_id: str
    #: the cache file's name before ``<sha256(workspace)>.json``
    cache_prefix: str

    @property
    def parsed(self) -> frozenset[str]:
        """The extensions whose files can give blocks."""
        return self.extensions - self.no_parser
