"""The command line. With no subcommand it starts the TUI; the subcommands serve scripts.

Exit codes: 0 success, 1 a file or operation failed, 2 bad usage or config, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from roocode_tui import __version__
from roocode_tui import cli_output as output

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


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
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
            "re-embed only their changed chunks; deleted files lose their points. Ctrl-C stops "
            "cleanly and the next run finishes the job.",
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
            choices=["native", "roo"],
            default="native",
            help="native: roocode-tui's own collection (default); roo: the collection Roo Code would build "
            "for the workspace PATH (its name, point ids, payloads and marker; Qdrant server only), "
            "which Roo Code then uses and keeps up to date",
        )
        p.add_argument(
            "--write-roo-cache",
            nargs="?",
            const="",
            default=None,
            metavar="PATH",
            help="with --schema roo: after a complete run, write Roo Code's own cache of what it indexed "
            "(roo-index-cache-<sha256 of the workspace>.json) into VS Code's storage for Roo Code, or, "
            "given as --write-roo-cache=PATH, into PATH (that directory, or that .json file), so Roo Code "
            "finds the workspace indexed and embeds nothing again; refused while VS Code runs (Roo Code "
            "would write its own copy over it)",
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
        from roocode_tui.cli_transfer import add_parsers

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


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    from roocode_tui.core.memory import tune_allocator

    tune_allocator()  # first, before any thread has a heap of its own (core/memory.py)
    args_in = sys.argv[1:] if argv is None else argv
    first = next((a for a in args_in if not a.startswith("-")), None)
    only = "search" if first == "search" and "--config" not in args_in else None
    parser = _build_parser(only="" if not args_in else only)  # no arguments: the TUI, no command's parser
    args = parser.parse_args(argv)
    cache = getattr(args, "write_roo_cache", None)
    if cache and f"--write-roo-cache={cache}" not in args_in:
        # "--write-roo-cache ~/src/shop": the word after it is the workspace, not the cache's
        # place (that is given as --write-roo-cache=PATH)
        args.paths = [*args.paths, cache]
        args.write_roo_cache = ""
    debug = getattr(args, "debug", False)
    if args.command == "search" and not debug and not getattr(args, "no_engine", False):
        from roocode_tui import cli_engine

        answered = cli_engine.quick_search(args)
        if answered is not None:
            return answered
    from roocode_tui.core.errors import RoocodeError

    try:
        if args.command is None:
            return _tui(args, debug)
        from roocode_tui.core.config import load_settings

        settings = load_settings(getattr(args, "config", None))
        if getattr(args, "read_only", False):
            settings.read_only = True
        from roocode_tui.core.security import LOG, setup_logging, warnings_for

        setup_logging(settings, debug)
        for warning in warnings_for(settings):
            print(f"roocode-tui: warning: {warning}", file=sys.stderr)
            LOG.warning(warning)
        if getattr(args, "no_engine", False):
            settings.engine.enabled = False
        from roocode_tui import cli_engine

        handler = {
            "index": _index,
            "search": _search,
            "collections": _collections,
            "doctor": _doctor,
            "roo": _roo,
            "serve": cli_engine.serve,
            "status": cli_engine.status,
            "watch": cli_engine.watch,
            "mcp": cli_engine.mcp,
            "eval": _eval,
        }[args.command]
        return _run_async(handler, settings, args)
    except RoocodeError as exc:
        output.err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        output.err("interrupted")
        return 130
    except Exception as exc:
        import logging

        logging.getLogger("roocode_tui").exception("unexpected error")
        if debug:
            raise
        output.err(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return 1


def _run_async(handler: Callable[..., Coroutine[Any, Any, int]], settings: Any, args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(handler(settings, args))


def _tui(args: argparse.Namespace, debug: bool) -> int:
    """The TUI paints first and validates its settings right after its first frame (pydantic costs
    ~0.1 s of start-up: core/config_file.py). The file is read now: a missing file or bad TOML
    stops here; a bad value ends the app after its first frame with the same one-line error."""
    import gc

    from roocode_tui.core.config_file import read_config

    source = read_config(getattr(args, "config", None))
    # Start-up allocates much and frees little: collecting cost ~0.06 s before the first frame
    # (bench/NOTES.md). The app turns the collector back on after its first frame.
    gc.disable()
    from roocode_tui.tui.app import create_app

    warnings: list[str] = []

    def settings() -> Any:
        from roocode_tui.core.config import settings_from
        from roocode_tui.core.security import LOG, setup_logging, warnings_for

        loaded = settings_from(source)
        if getattr(args, "read_only", False):
            loaded.read_only = True
        if getattr(args, "no_engine", False):
            loaded.engine.enabled = False
        setup_logging(loaded, debug)
        warnings.extend(warnings_for(loaded))  # the app shows them; printed too once it has closed
        for warning in warnings:
            LOG.warning(warning)
        return loaded

    app = create_app(settings, collection=args.collection)
    try:
        app.run()
    finally:
        gc.enable()
    for warning in warnings:
        print(f"roocode-tui: warning: {warning}", file=sys.stderr)
    if app.settings_error is not None:
        raise app.settings_error
    return app.return_code or 0


# -- index -----------------------------------------------------------------------------------
async def _index(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui import cli_engine
    from roocode_tui.engine.local import LocalEngine

    output.refuse_if_read_only(settings, "index")
    if getattr(args, "package", None):
        _package_paths(settings, args)
    engine = await cli_engine.open_engine(settings)
    try:
        if getattr(args, "detach", False) and isinstance(engine, LocalEngine):
            from roocode_tui.core.errors import UsageError

            raise UsageError("--detach needs the engine (engine.enabled = false or --no-engine runs in this process)")
        return await cli_engine.index_in_engine(engine, args)
    finally:
        await engine.aclose()


def _package_paths(settings: Any, args: argparse.Namespace) -> None:
    """``index --package NAME``: the installed package's paths, into lib-NAME (core/packages.py)."""
    from roocode_tui.core import packages
    from roocode_tui.core.errors import UsageError

    if args.paths:
        raise UsageError("--package indexes the package's own files: give PATHs or --package, not both")
    if args.schema != "native":
        raise UsageError("--package builds a roocode-tui collection (no --schema roo)")
    pkg = packages.resolve(
        args.package,
        args.ecosystem,
        python=args.python,
        node_modules=args.node_modules,
        cwd=os.getcwd(),
        data_dir=settings.store.data_dir,
    )
    args.paths = [str(p) for p in pkg.paths]
    args.collection = args.collection or pkg.collection
    print(
        f"{pkg.ecosystem} package {pkg.name} {pkg.version} (from {pkg.where}) into {args.collection}",
        file=sys.stderr,
    )


# -- search ----------------------------------------------------------------------------------
async def _search(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui import cli_engine
    from roocode_tui.core.search import SearchResult

    queries, path, lang = output.search_request(args)
    engine = await cli_engine.open_engine(settings)
    try:
        found = await engine.search(
            queries,
            args.collection,
            limit=args.limit,
            path=path,
            lang=lang,
            mode=args.mode,
            cwd=os.getcwd(),
            ranking=args.ranking,
            explain=args.explain,
            group_by="file" if args.files else None,
        )
    finally:
        await engine.aclose()
    return output.print_results([SearchResult.from_json(r) for r in found], args)


# -- eval ------------------------------------------------------------------------------------
async def _eval(settings: Any, args: argparse.Namespace) -> int:
    import asyncio

    from roocode_tui import cli_engine
    from roocode_tui.core.errors import UsageError
    from roocode_tui.core.evaluation import Setup, evaluate, setups
    from roocode_tui.core.questions import collection_questions, indexed_paths

    if args.history < 0 or args.symbols < 0:
        raise UsageError("--history and --symbols must be 0 or more")
    engine = await cli_engine.open_engine(settings)
    try:
        name = await engine.resolve_collection(args.collection, os.getcwd())
        info = await engine.collection(name)
        roots = [Path(p) for p in info.get("paths") or []]
        if not roots:
            raise UsageError(f"collection {name!r} records no indexed folders: eval asks about the files it indexed")
        say = output.stderr_progress(args.json)
        say(f"mining questions from {', '.join(str(r) for r in roots)} ...")
        indexed = await asyncio.to_thread(
            indexed_paths, roots, info.get("include") or [], info.get("exclude") or [], settings.index.max_file_bytes
        )
        asked = await asyncio.to_thread(
            collection_questions,
            roots,
            indexed,
            history=args.history,
            symbols=args.symbols,
            chunk_tokens=settings.index.chunk_tokens,
        )
        if not asked:
            raise UsageError(
                f"no questions for {name!r}: its folders have no usable git history and no definitions "
                "(eval mines commit subjects and definition names)"
            )
        kinds: dict[str, int] = {}
        for q in asked:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
        say(f"{len(asked)} questions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
        if args.questions:
            with open(args.questions, "w", encoding="utf-8") as out:
                for q in asked:
                    out.write(json.dumps({**q.to_json(), "half": q.half}, ensure_ascii=True) + "\n")

        async def search(queries: list[str], setup: Setup) -> list[list[str]]:
            found = await engine.search(
                queries,
                name,
                limit=10,
                path=None,
                lang=None,
                mode=setup.mode,
                cwd=os.getcwd(),
                ranking=setup.ranking,
                rerank=setup.rerank,
            )
            return [[h["path"] for h in r.get("results", [])] for r in found]

        def progress(label: str, done: int, total: int) -> None:
            say(f"{label}: {done}/{total}", transient=done < total)

        rows = await evaluate(asked, search, setups(settings.reranker.enabled), progress)
    finally:
        await engine.aclose()
    if args.json:
        print(json.dumps({"collection": name, "questions": len(asked), "kinds": kinds, "setups": rows}))
        return 0
    output.print_eval(name, len(asked), rows)
    return 0


# -- doctor ----------------------------------------------------------------------------------
async def _doctor(settings: Any, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from roocode_tui import cli_engine
    from roocode_tui.core.doctor import exit_code, run_doctor
    from roocode_tui.core.text import inert

    await cli_engine.release_store_first(settings)
    checks = await run_doctor(settings)
    if args.json:
        print(json.dumps({"ok": exit_code(checks) == 0, "checks": [c.to_json() for c in checks]}))
        return exit_code(checks)
    console = Console(highlight=False)
    marks = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "bold red"), "info": ("·", "dim")}
    for c in checks:
        mark, style = marks[c.status]
        line = Text(f"{mark} ", style=style)
        line.append(f"{c.name}: ", style="bold")
        line.append(inert(c.verdict))
        console.print(line)
        if c.fix and c.status != "ok":
            console.print(Text(f"    fix: {inert(c.fix)}", style="dim"))
    return exit_code(checks)


# -- roo ---------------------------------------------------------------------------------------
async def _roo(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui import cli_engine
    from roocode_tui.core import roo
    from roocode_tui.core.errors import RoocodeError
    from roocode_tui.core.roo_qdrant import describe
    from roocode_tui.core.stores import open_store
    from roocode_tui.core.text import inert

    workspace = roo.workspace_path(args.path)
    name = roo.collection_name(workspace)
    await cli_engine.release_store_first(settings)
    store = open_store(settings.store)
    try:
        info = await describe(store, name)
        exists = info is not None or name in await store.list_collections()
    except RoocodeError as exc:
        info, exists, problem = None, None, str(exc)
    else:
        problem = ""
    finally:
        await store.close()
    if args.json:
        out: dict[str, Any] = {"workspace": workspace, "collection": name, "exists": exists}
        if info is not None:
            out.update(points=info.points, dimension=info.dimension, **info.to_json(workspace))
        if problem:
            out["error"] = problem
        print(json.dumps(out))
        return 0 if not problem else 1
    print(name)
    where = settings.store.url or f"{settings.store.backend} store at {settings.store.data_dir}"
    if problem:
        print(f"  {inert(workspace)}: cannot tell whether it exists: {inert(problem)}", file=sys.stderr)
        return 1
    if info is not None:
        state = f"indexing {info.state}" + (f" ({info.when})" if info.when else "")
        print(f"  {inert(workspace)}: in {inert(where)}, {info.points} points, {info.dimension}-d, {state}")
    elif exists:
        print(f"  {inert(workspace)}: in {inert(where)}, but not in Roo Code's format")
    else:
        build = f"roocode-tui index {workspace} --schema roo"
        print(f"  {inert(workspace)}: not in {inert(where)} ({inert(build)} builds it)")
    return 0


# -- collections -----------------------------------------------------------------------------
async def _collections(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui import cli_engine, cli_transfer
    from roocode_tui.core.errors import CollectionNotFoundError
    from roocode_tui.core.roo_qdrant import describe
    from roocode_tui.core.stores import open_store

    if args.action == "rebuild" and not (args.abort or args.finish):
        output.refuse_if_read_only(settings, "collections rebuild")
        return await _index(
            settings,
            argparse.Namespace(
                paths=[], collection=args.name, rebuild=True, schema="native", json=args.json, detach=False
            ),
        )
    if args.action in ("list", "info", "delete"):
        engine = await cli_engine.open_engine(settings)
        try:
            return await cli_engine.collections_in_engine(engine, settings, args)
        finally:
            await engine.aclose()
    if args.action in cli_transfer.ACTIONS:
        return await cli_transfer.run(settings, args, output.refuse_if_read_only)
    await cli_engine.release_store_first(settings)
    store = open_store(settings.store)
    try:
        name = args.name
        if await store.get_meta(name) is None and await describe(store, name) is None:
            raise CollectionNotFoundError(f"collection {name!r} does not exist")
        if args.action == "rebuild":
            return await _rebuild_step(store, settings, args)
        # optimize
        output.refuse_if_read_only(settings, "collections optimize")
        started = time.monotonic()
        built = await store.optimize(name)
        took = time.monotonic() - started
        if args.json:
            print(json.dumps({"collection": name, "optimized": built, "seconds": round(took, 3)}))
        elif built:
            print(f"built the search index of {name} in {took:.1f}s")
        else:
            print(f"{name}: nothing to do (already optimized, or the server indexes by itself)")
        return 0
    finally:
        await store.close()


async def _rebuild_step(store: Any, settings: Any, args: argparse.Namespace) -> int:
    """``collections rebuild NAME --abort | --finish``."""
    from roocode_tui.core.errors import UsageError

    output.refuse_if_read_only(settings, "collections rebuild")
    name = args.name
    if args.abort:
        dropped = await store.abort_rebuild(name)
        print(
            json.dumps({"collection": name, "aborted": dropped})
            if args.json
            else (
                f"dropped the unfinished rebuild of {name}; the old index still serves"
                if dropped
                else f"{name} has no unfinished rebuild"
            )
        )
        return 0
    staging = await store.staging_of(name)
    if staging is None:
        raise UsageError(
            f"{name!r} has no unfinished rebuild to switch to (start one: roocode-tui collections rebuild {name})"
        )
    await store.finish_rebuild(name, staging)
    print(json.dumps({"collection": name, "switched": True}) if args.json else f"{name} now serves the rebuilt index")
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
