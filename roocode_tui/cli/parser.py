"""The command line's parser: every command, its options and help (`roocode-tui --help`).
Built per command where it can (``only``), so a plain search does not pay for the whole tree."""

from __future__ import annotations

import argparse
from pathlib import Path

from roocode_tui import __version__

#: index --schema's values (core/agents/schemas.py CHOICES; not imported: the parser stays light)
SCHEMAS = ["native", "roo", "zoo", "kilo", "auto"]

EPILOG = """\
examples:
  roocode-tui                                   open the TUI
  roocode-tui index ~/src/project --collection project
  roocode-tui search "how are retries done" --collection project --limit 5
  roocode-tui search "parse config" --path src/ --lang python --json
  roocode-tui search "where are retries configured" --files --explain
  roocode-tui eval project                      how well search answers questions about its code
  roocode-tui collections list
  roocode-tui collections copy project --to qdrant --url http://192.168.1.100:6333
  roocode-tui collections snapshot project      a snapshot file (restore it: collections restore NEW FILE)
  roocode-tui index ~/src/project --schema roo  build Roo Code's index of that workspace
  roocode-tui index ~/src/project --schema auto the index of the agent that workspace uses
  roocode-tui roo which ~/src/project           Roo Code's collection name for a workspace
  roocode-tui doctor                            check embedder, store and GPU
  roocode-tui status --follow                   the engine and its index runs, live
  roocode-tui index ~/src/project --detach      start a run in the engine and return
  roocode-tui index --package httpx             an installed library's code and docs, into lib-httpx
  roocode-tui watch project                     keep the collection in sync as its files change
  roocode-tui mcp --print-config roo            the MCP config that lets Roo Code search with it

engine: commands talk to one background engine per user (started on demand, it keeps the
store open and owns the index runs); roocode-tui serve runs it in the foreground.

config: %(config)s (or --config PATH, or ROOCODE_TUI_CONFIG);
every key can be overridden by ROOCODE_TUI_<SECTION>__<KEY>, e.g. ROOCODE_TUI_EMBEDDER__PROVIDER=openai
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``only``: build just that command's (a search answered by the engine should not
    pay for the rest: engine/quick.py); ``""``: none (the TUI started with no arguments)."""

    def want(name: str) -> bool:
        return only is None or only == name

    import platformdirs  # not core.config: pydantic would cost a search 90 ms (engine/quick.py)

    def default_config_path() -> str:
        return str(Path(platformdirs.user_config_dir("roocode-tui")) / "config.toml")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file to use")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks, log details")
    common.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="refuse every write (index, rebuild, create, delete): for browsing shared indexes",
    )
    common.add_argument(
        "--no-engine",
        action="store_true",
        default=argparse.SUPPRESS,
        help="do the work in this process instead of the background engine (as engine.enabled = false does)",
    )

    parser = argparse.ArgumentParser(
        prog="roocode-tui",
        description="Semantic search over markdown docs and commented code, in the terminal.",
        epilog=EPILOG % {"config": default_config_path()},
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"roocode-tui {__version__}")
    parser.add_argument("--collection", metavar="NAME", help="collection the TUI opens on")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    if want("index"):
        p = sub.add_parser(
            "index",
            parents=[common],
            help="index files into a collection (incremental)",
            description="Index files into a collection. Unchanged files cost nothing; changed files "
            "re-embed only their changed chunks; deleted files lose their points. A new collection "
            "of a tree the store already holds (a git worktree, a second clone) starts as a copy of "
            "that collection and embeds only what differs. Ctrl-C stops cleanly and the next run "
            "finishes the job.",
        )
        p.add_argument(
            "paths", nargs="*", metavar="PATH", help="files or directories (default: the collection's paths, or .)"
        )
        p.add_argument(
            "--collection", "-c", metavar="NAME", help="collection name (default: named after the first PATH)"
        )
        p.add_argument(
            "--rebuild",
            action="store_true",
            help="embed every file again into a new index and switch to it when complete (searches keep "
            "using the old one until then)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON object with the counts at the end")
        p.add_argument(
            "--package",
            metavar="NAME",
            help="index an installed library's files into lib-NAME (Python: the distribution's packages and "
            "its long description; npm: node_modules/NAME); again after an upgrade: only what changed",
        )
        p.add_argument(
            "--ecosystem", choices=["pypi", "npm"], default="pypi", help="where --package comes from (default pypi)"
        )
        p.add_argument(
            "--python",
            metavar="PATH",
            help="the interpreter whose environment has --package (default: $VIRTUAL_ENV's, else python3)",
        )
        p.add_argument(
            "--node-modules",
            metavar="DIR",
            help="the node_modules that has --package (default: the nearest from . upwards)",
        )
        p.add_argument(
            "--detach",
            action="store_true",
            help="start the run in the engine and return at once (follow it: roocode-tui status --follow)",
        )
        p.add_argument(
            "--schema",
            choices=SCHEMAS,
            default="native",
            help="native: roocode-tui's own collection (default); roo, zoo, kilo: the collection Roo Code, "
            "Zoo Code or Kilo Code would build for the workspace PATH (its name, point ids, payloads and marker; "
            "Qdrant server only; kilo: with the embedding profile of Kilo's kilo.jsonc), which the agent then "
            "uses and keeps up to date; auto: the agent that indexes that workspace (its cache file, else Kilo "
            "Code's marker in the collection, else the one agent installed), named in the output",
        )
        p.add_argument(
            "--write-cache",
            "--write-roo-cache",
            dest="write_cache",
            nargs="?",
            const="",
            default=None,
            metavar="PATH",
            help="with an agent's --schema: after a complete run, write the agent's own cache of what it "
            "indexed (roo-index-cache-<sha256 of the workspace>.json) into VS Code's storage for that "
            "agent, or, given as --write-cache=PATH, into PATH (that directory, or that .json file), so "
            "the agent finds the workspace indexed and embeds nothing again; refused while VS Code runs "
            "(the agent would write its own copy over it)",
        )
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="embed and write nothing: print the files that would be indexed and those skipped (with "
            "why), the chunks and tokens left to embed after reuse, and the time (at the embedder's "
            "measured rate) and cost (embedder.price_per_million_tokens) of the run",
        )
        p.add_argument(
            "--no-reuse",
            action="store_true",
            help="embed every changed chunk, even one whose vector another collection of the same model holds "
            "(index.reuse_vectors = false for one run)",
        )

    if want("search"):
        p = sub.add_parser(
            "search",
            parents=[common],
            help="search a collection",
            description="Search a collection. Filters run inside the store, before top-k. "
            "'path:PREFIX' and 'lang:NAME' inside the query work too.",
        )
        p.add_argument("query", metavar="QUERY", nargs="?", help="the question or identifier (or use --batch)")
        p.add_argument("--collection", "-c", metavar="NAME", help="the collection, or several as one ranking: a,b")
        p.add_argument("--limit", "-n", type=int, default=10, metavar="N", help="results to return (default 10)")
        p.add_argument(
            "--path", metavar="PREFIX", help="only paths starting with PREFIX (or matching a glob: 'src/**/*.py')"
        )
        p.add_argument("--lang", metavar="LANG", help="only this language (comma-separated for several)")
        p.add_argument("--json", action="store_true", help="print the results as JSON")
        p.add_argument(
            "--mode",
            choices=["dense", "hybrid", "keyword"],
            help="dense vectors, keywords, or both (default: [search] mode, hybrid: both lanes, ranked by "
            "the ranking stack)",
        )
        p.add_argument(
            "--batch",
            metavar="FILE",
            help="read one query per line (- for stdin); write one JSON line per query: "
            '{"query": ..., "results": [...]}',
        )
        p.add_argument(
            "--files",
            action="store_true",
            help="answer with files: the N best files, each with its best chunks (where something lives)",
        )
        p.add_argument(
            "--explain",
            action="store_true",
            help="show why each hit ranks where it does: its lane ranks and scores, and each boost or penalty",
        )
        p.add_argument(
            "--no-ranking",
            dest="ranking",
            action="store_false",
            default=None,
            help="hybrid search without the ranking stack (fused lanes only; default: [search] ranking)",
        )

    if want("eval"):
        p = sub.add_parser(
            "eval",
            parents=[common],
            help="measure search on your own code: questions mined from its git history",
            description="Measure how well search answers questions about a collection's own code, so "
            "a model, a mode or the ranking stack is chosen on evidence. Questions: the subjects of small "
            "commits in the history of each indexed folder that is a git work tree (no merges, bots, "
            "releases or chores; 1-3 answering files that are still indexed, tests and changelogs aside; "
            "at most 300 changed lines), answered by the files they touched; and bare names of "
            "definitions that one file defines. Scores: NDCG@10, MRR@10 and Recall@10 at file level "
            "(a file counts at the rank of its first chunk), per setup (dense, keyword, hybrid, hybrid + "
            "ranking stack, and both hybrids through the reranker when [reranker] enabled) and per kind "
            "of question, plus a tuning and a held-out half.",
        )
        p.add_argument("collection", metavar="COLLECTION", nargs="?", help="the collection (default: as search)")
        p.add_argument("--history", type=int, default=200, metavar="N", help="commit questions at most (default 200)")
        p.add_argument(
            "--symbols", type=int, default=50, metavar="N", help="definition-name questions at most (default 50)"
        )
        p.add_argument("--json", action="store_true", help="print the scores as JSON")
        p.add_argument("--questions", metavar="FILE", help="also write the questions asked, one JSON object per line")
        p.add_argument(
            "--ask",
            metavar="FILE",
            help="ask your own questions instead of mining them: one JSON object a line, "
            '{"text": "where are retries timed?", "files": ["src/retry.py"], "kind": "architecture"} '
            "(files relative to the indexed folder, kind optional)",
        )

    if want("serve"):
        p = sub.add_parser(
            "serve",
            parents=[common],
            help="run the engine in the foreground (commands start one in the background when none runs)",
            description="Run the engine: one process per user and store that keeps the store open, owns the index "
            "runs and serves every face (the CLI's commands) over a private Unix socket "
            "($XDG_RUNTIME_DIR/roocode-tui/engine-<store>.sock, mode 0600, peers checked); one engine per store "
            "(data dir or Qdrant URL). It exits after "
            "engine.idle_exit_s with no run and no request (0: never). Under systemd: "
            "deploy/roocode-tui.service. Inspect it with: curl --unix-socket SOCKET http://engine/status. "
            "engine.listen = HOST:PORT adds a TCP listener whose requests need the token in engine.token_file.",
        )
        p.add_argument(
            "--stop",
            action="store_true",
            help="stop this store's engine (its runs are cancelled cleanly) and wait until it has exited",
        )
        p.add_argument("--idle-exit", type=float, metavar="SECONDS", help="override engine.idle_exit_s (0: never)")
        # started by `index` (engine/quick.py): load what a run needs before listening
        p.add_argument("--for-index", action="store_true", help=argparse.SUPPRESS)

    if want("status"):
        p = sub.add_parser(
            "status",
            parents=[common],
            help="the engine, its collections and its index runs (running and recent)",
            description="Show the engine (pid, version, config, store), its collections and its runs. "
            "Starts no engine. Exit code 0, or 3 when no engine is running.",
        )
        p.add_argument("--json", action="store_true", help="one JSON object (with --follow: one per change)")
        p.add_argument("--follow", "-f", action="store_true", help="keep showing the runs as they change (Ctrl-C ends)")

    if want("watch"):
        p = sub.add_parser(
            "watch",
            parents=[common],
            help="keep collections in sync with their files (the engine watches them)",
            description="Watch collections' paths: the engine sees files change and syncs each collection "
            "(an incremental run, shown in F2 and status) once its files have been quiet for "
            "engine.watch_debounce_ms. The engine keeps watching after this command and the TUI exit, "
            "and catches up on what changed meanwhile when it starts again (roocode-tui serve under "
            "systemd is the always-on setup). A collection's `watch = true` in the config does the same. "
            "With no NAME: the watchers and their state.",
        )
        p.add_argument("names", metavar="NAME", nargs="*", help="collections to watch")
        p.add_argument("--off", action="store_true", help="stop watching them")
        p.add_argument("--json", action="store_true", help="print the watchers as JSON")

    if want("doctor"):
        p = sub.add_parser(
            "doctor",
            parents=[common],
            help="check the config, embedder, store and GPU, each with a fix",
            description="Check every part of the setup: config file; embedding server reachable, "
            "serving the model, answering with the expected dimension; store reachable with its "
            "collections; GPU; vLLM metrics. Exits 1 when a check fails.",
        )
        p.add_argument("--json", action="store_true", help="print the checks as JSON")

    if want("collections"):
        p = sub.add_parser(
            "collections", parents=[common], help="list, inspect, delete, copy, snapshot or restore collections"
        )
        csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        q = csub.add_parser("list", parents=[common], help="list collections with their sizes")
        q.add_argument("--json", action="store_true")
        q = csub.add_parser("info", parents=[common], help="details of one collection")
        q.add_argument("name", metavar="NAME")
        q.add_argument("--json", action="store_true")
        q = csub.add_parser(
            "rebuild",
            parents=[common],
            help="embed a collection again without downtime (searches use the old index until the switch)",
            description="Index every file of the collection again into a new index beside the serving "
            "one, then switch to it in one atomic step and drop the old one. Searches keep answering "
            "from the old index until the switch; a cancelled, failed or killed rebuild leaves the old "
            "index serving and intact, and running the rebuild again resumes it. Use it after changing "
            "the embedding model, prefixes or chunking.",
        )
        q.add_argument("name", metavar="NAME")
        mode = q.add_mutually_exclusive_group()
        mode.add_argument("--abort", action="store_true", help="drop an unfinished rebuild; the old index stays")
        mode.add_argument(
            "--finish",
            action="store_true",
            help="switch to an unfinished rebuild's index as it is (e.g. after failures)",
        )
        q.add_argument("--json", action="store_true", help="print one JSON object with the counts at the end")
        q = csub.add_parser(
            "optimize",
            parents=[common],
            help="build the search index (HNSW) of an embedded collection",
            description="The embedded engine builds its HNSW index only when asked; until then a search "
            "scans every vector (about 20 ms at 100,000 x 1024-d on 2 cores, growing with the "
            "collection). This builds it: minutes of CPU and about 2 GB of memory at 100,000 points "
            "on 2 cores, after which searches take a few ms; later runs only index what is new. A "
            "Qdrant server builds its index by itself.",
        )
        q.add_argument("name", metavar="NAME")
        q.add_argument("--json", action="store_true")
        q = csub.add_parser("delete", parents=[common], help="delete a collection and its points")
        q.add_argument("name", metavar="NAME")
        q.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        q.add_argument("--json", action="store_true")
        from roocode_tui.cli.transfer import add_parsers

        add_parsers(csub, common)

    if want("mcp"):
        p = sub.add_parser(
            "mcp",
            parents=[common],
            help="serve the search tools to an agent over MCP (stdio)",
            description="An MCP server over stdin/stdout, for an agent (Roo Code, Claude Code, Cursor) to "
            "start: tools search, list_collections, read, index_status and refresh, answered by the engine "
            "(started when none runs). Searches default to the collection of the directory it is started "
            "in (or --workspace). --print-config AGENT prints the JSON that agent reads to start it. "
            "engine.mcp = true serves the same tools over streamable HTTP at /mcp on the engine.",
        )
        p.add_argument(
            "--print-config",
            choices=["roo", "claude", "cursor"],
            metavar="AGENT",
            help="print the MCP config for roo (.roo/mcp.json or Roo Code's mcp_settings.json), claude "
            "(.mcp.json) or cursor (.cursor/mcp.json) and exit",
        )
        p.add_argument("--workspace", metavar="DIR", help="the workspace searches default to (default: .)")

    if want("agents"):
        p = sub.add_parser(
            "agents", parents=[common], help="the coding agents' indexes (Roo Code, Zoo Code, Kilo Code)"
        )
        asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        q = asub.add_parser(
            "which",
            parents=[common],
            help="each agent's collection for a workspace, whether the store has it, and whose it is",
            description="For the workspace PATH, print each coding agent's collection (Roo Code and Zoo Code: "
            "ws- + the first 16 hex digits of sha256 of its absolute path as VS Code opens it; Kilo Code: the "
            "same over its realpath), whether the store has it and in which layout, the agent's cache file "
            "that names it, the agents installed (VS Code, VS Code Server), and the agent that indexes it "
            "(what index --schema auto would take).",
        )
        q.add_argument("path", metavar="PATH", nargs="?", default=".", help="the workspace folder (default .)")
        q.add_argument("--json", action="store_true")
    if want("roo"):
        p = sub.add_parser("roo", parents=[common], help="Roo Code's codebase index")
        rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        q = rsub.add_parser(
            "which",
            parents=[common],
            help="the collection Roo Code uses for a workspace, and whether the store has it",
            description="Print the name of Roo Code's collection for the workspace PATH (ws- + the first "
            "16 hex digits of sha256 of its absolute path, symlinks not resolved, as VS Code opens it) "
            "and whether it exists in the configured store.",
        )
        q.add_argument("path", metavar="PATH", nargs="?", default=".", help="the workspace folder (default .)")
        q.add_argument("--json", action="store_true")
    return parser
