"""The command line's commands: ``run`` parses and dispatches; the in-process commands (index,
eval, doctor, roo, collections) live here, search in search.py, those the engine answers in
engine_commands.py, moving collections in transfer.py. With no subcommand it starts the TUI.

Exit codes: 0 success, 1 a file or operation failed, 2 bad usage or config, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from roocode_tui.cli import output
from roocode_tui.cli.parser import build_parser


def main(argv: list[str] | None = None) -> None:
    code = run(argv)
    # Done: what is left is the interpreter's teardown, whose garbage collections over every
    # module's objects took ~50 ms of each command's exit (a cold `index` waits for it).
    # Frozen objects are not collected again; atexit handlers and flushes run as usual.
    import gc

    gc.freeze()
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    from roocode_tui.core.memory import tune_allocator

    tune_allocator()  # first, before any thread has a heap of its own (core/memory.py)
    args_in = sys.argv[1:] if argv is None else argv
    first = next((a for a in args_in if not a.startswith("-")), None)
    only = "search" if first == "search" and "--config" not in args_in else None
    if args_in[:1] == ["serve"]:
        only = "serve"  # the engine's own start (engine/quick.py launch): the other parsers cost ~12 ms
        # Its imports allocate much and free little: the collector's passes over them cost
        # ~25 ms before it listens. It is turned back on, the start's objects frozen, once it
        # serves (engine/server.py).
        import gc

        gc.disable()
    parser = build_parser(only="" if not args_in else only)  # no arguments: the TUI, no command's parser
    args = parser.parse_args(argv)
    cache = getattr(args, "write_cache", None)
    if cache and f"--write-cache={cache}" not in args_in and f"--write-roo-cache={cache}" not in args_in:
        # "--write-cache ~/src/shop": the word after it is the workspace, not the cache's place
        # (that is given as --write-cache=PATH)
        args.paths = [*args.paths, cache]
        args.write_cache = ""
    debug = getattr(args, "debug", False)
    if args.command == "index" and not getattr(args, "no_engine", False):
        from roocode_tui.engine.quick import start_engine

        # while this loads; the engine readies the run's code meanwhile
        start_engine(getattr(args, "config", None), getattr(args, "read_only", False), for_index=True)
    if args.command == "search" and not debug and not getattr(args, "no_engine", False):
        from roocode_tui.cli import search

        answered = search.thin(args)  # a running engine of these settings, through the thin transport
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
        from roocode_tui.cli import engine_commands, search

        handler = {
            "index": _index,
            "search": search.search,
            "collections": _collections,
            "doctor": _doctor,
            "roo": _roo,
            "agents": _agents,
            "serve": engine_commands.serve,
            "status": engine_commands.status,
            "watch": engine_commands.watch,
            "mcp": engine_commands.mcp,
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
    finally:
        if args.command == "index":
            from roocode_tui.engine.quick import stop_unused

            stop_unused()  # started early for a command that ended before it needed an engine


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
    from roocode_tui.cli import engine_commands

    if not getattr(args, "dry_run", False):
        output.refuse_if_read_only(settings, "index")
    if getattr(args, "package", None):
        _check_package_args(args)
    engine = await engine_commands.open_engine(settings)
    try:
        if getattr(args, "package", None):
            await _package_paths(engine, args)
        if getattr(args, "detach", False):
            from roocode_tui.engine.local import LocalEngine  # here only: ~0.1 s of a cold index's start

            if isinstance(engine, LocalEngine):
                from roocode_tui.core.errors import UsageError

                raise UsageError(
                    "--detach needs the engine (engine.enabled = false or --no-engine runs in this process)"
                )
        return await engine_commands.index_in_engine(engine, args)
    finally:
        await engine.aclose()


def _check_package_args(args: argparse.Namespace) -> None:
    from roocode_tui.core.errors import UsageError

    if args.paths:
        raise UsageError("--package indexes the package's own files: give PATHs or --package, not both")
    if args.schema != "native":
        raise UsageError("--package builds a roocode-tui collection (no --schema roo)")


async def _package_paths(engine: Any, args: argparse.Namespace) -> None:
    """``index --package NAME``: the installed package's paths, into lib-NAME (core/files/packages.py,
    in the engine). The Python is this command's (its virtualenv, its PATH) unless given."""
    from roocode_tui.core.files.packages import active_python

    pkg = await engine.resolve_package(
        args.package,
        args.ecosystem,
        python=args.python or (active_python() if args.ecosystem == "pypi" else None),
        node_modules=args.node_modules,
        cwd=os.getcwd(),
    )
    args.paths = pkg["paths"]
    args.collection = args.collection or pkg["collection"]
    print(
        f"{pkg['ecosystem']} package {pkg['name']} {pkg['version']} (from {pkg['where']}) into {args.collection}",
        file=sys.stderr,
    )


# -- eval ------------------------------------------------------------------------------------
async def _eval(settings: Any, args: argparse.Namespace) -> int:
    import asyncio

    from roocode_tui.cli import engine_commands
    from roocode_tui.core.errors import UsageError
    from roocode_tui.core.search.evaluation import Setup, evaluate, setups
    from roocode_tui.core.search.questions import collection_questions, indexed_paths, load_questions

    if args.history < 0 or args.symbols < 0:
        raise UsageError("--history and --symbols must be 0 or more")
    ask = Path(args.ask).expanduser() if args.ask else None
    if ask is not None and not ask.is_file():
        raise UsageError(f"--ask {args.ask}: no such file (one JSON object a line: text, files, kind)")
    engine = await engine_commands.open_engine(settings)
    try:
        name = await engine.resolve_collection(args.collection, os.getcwd())
        info = await engine.collection(name)
        meta = info.meta
        roots = [Path(p) for p in meta.paths] if meta else []
        include, exclude = (meta.include, meta.exclude) if meta else ([], [])
        if not roots:
            raise UsageError(f"collection {name!r} records no indexed folders: eval asks about the files it indexed")
        say = output.stderr_progress(args.json)
        indexed = await asyncio.to_thread(indexed_paths, roots, include, exclude, settings.index.max_file_bytes)
        left_out = 0
        if ask is not None:
            asked, left_out = await asyncio.to_thread(load_questions, ask, indexed)
            if left_out:
                say(f"{ask}: {left_out} questions left out: none of their files is indexed in {name!r}")
            if not asked:
                raise UsageError(f"{ask}: no question whose files {name!r} indexes (paths relative to its folders)")
        else:
            say(f"mining questions from {', '.join(str(r) for r in roots)} ...")
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
            return [[h.path for h in r.hits] for r in found]

        def progress(label: str, done: int, total: int) -> None:
            say(f"{label}: {done}/{total}", transient=done < total)

        rows = await evaluate(asked, search, setups(settings.reranker.enabled), progress)
    finally:
        await engine.aclose()
    if args.json:
        report = {"collection": name, "questions": len(asked), "kinds": kinds, "setups": rows}
        if ask is not None:
            report["questions_left_out"] = left_out  # none of their files indexed
        print(json.dumps(report))
        return 0
    output.print_eval(name, len(asked), rows)
    return 0


# -- doctor ----------------------------------------------------------------------------------
async def _doctor(settings: Any, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from roocode_tui.cli import engine_commands
    from roocode_tui.core.display import inert
    from roocode_tui.core.monitor.doctor import exit_code, run_doctor

    await engine_commands.release_store_first(settings)
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
    from roocode_tui.cli import engine_commands
    from roocode_tui.core.agents import roo
    from roocode_tui.core.display import inert

    engine = await engine_commands.open_engine(settings)
    try:
        found = await engine.agent_index(roo.workspace_path(args.path))
    finally:
        await engine.aclose()
    problem = found.get("error")
    if args.json:
        print(json.dumps(found))
        return 0 if not problem else 1
    workspace, name = found["workspace"], found["collection"]
    print(name)
    where = settings.store.url or f"{settings.store.backend} store at {settings.store.data_dir}"
    if problem:
        print(f"  {inert(workspace)}: cannot tell whether it exists: {inert(problem)}", file=sys.stderr)
        return 1
    if "points" in found:  # in Roo Code's format; its state and time as AgentIndexInfo's .state and .when
        complete = found["indexing_complete"]
        state = "no marker" if complete is None else "complete" if complete else "incomplete"
        when = found["completed_at"] if complete else found["started_at"]
        state = f"indexing {state}" + (f" ({when})" if when else "")
        print(f"  {inert(workspace)}: in {inert(where)}, {found['points']} points, {found['dimension']}-d, {state}")
    elif found["exists"]:
        print(f"  {inert(workspace)}: in {inert(where)}, but not in Roo Code's format")
    else:
        build = f"roocode-tui index {workspace} --schema roo"
        print(f"  {inert(workspace)}: not in {inert(where)} ({inert(build)} builds it)")
    return 0


async def _agents(settings: Any, args: argparse.Namespace) -> int:
    """``agents which PATH``: each coding agent's collection of the workspace."""
    from roocode_tui.cli import engine_commands
    from roocode_tui.core.agents import roo

    engine = await engine_commands.open_engine(settings)
    try:
        found = await engine.agents_which(roo.workspace_path(args.path))
    finally:
        await engine.aclose()
    if args.json:
        print(json.dumps(found))
    else:
        output.print_agents(found, settings.store.url or f"{settings.store.backend} store at {settings.store.data_dir}")
    return 0


# -- collections -----------------------------------------------------------------------------
async def _collections(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui.cli import engine_commands, transfer

    if args.action == "rebuild" and not (args.abort or args.finish):
        output.refuse_if_read_only(settings, "collections rebuild")
        return await _index(
            settings,
            argparse.Namespace(
                paths=[], collection=args.name, rebuild=True, schema="native", json=args.json, detach=False
            ),
        )
    if args.action in ("list", "info", "delete"):
        engine = await engine_commands.open_engine(settings)
        try:
            return await engine_commands.collections_in_engine(engine, settings, args)
        finally:
            await engine.aclose()
    if args.action in transfer.ACTIONS:
        return await transfer.run(settings, args, output.refuse_if_read_only)
    engine = await engine_commands.open_engine(settings)
    try:
        if args.action == "rebuild":
            return await _rebuild_step(engine, settings, args)
        return await _optimize(engine, settings, args)
    finally:
        await engine.aclose()


async def _optimize(engine: Any, settings: Any, args: argparse.Namespace) -> int:
    """``collections optimize NAME``."""
    name = args.name
    await _refuse_if_read_only(engine, settings, name, "collections optimize")
    done = await engine.optimize(name)
    if args.json:
        print(json.dumps(done))
    elif done["optimized"]:
        pieces = int(done.get("pieces") or 1)
        split = f" (in {pieces} pieces, within engine.build_memory_mb)" if pieces > 1 else ""
        print(f"built the search index of {name} in {done['seconds']:.1f}s{split}")
    else:
        print(f"{name}: nothing to do (already optimized, or the server indexes by itself)")
    return 0


async def _rebuild_step(engine: Any, settings: Any, args: argparse.Namespace) -> int:
    """``collections rebuild NAME --abort | --finish``."""
    name = args.name
    await _refuse_if_read_only(engine, settings, name, "collections rebuild")
    if args.abort:
        dropped = await engine.abort_rebuild(name)
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
    await engine.finish_rebuild(name)
    print(json.dumps({"collection": name, "switched": True}) if args.json else f"{name} now serves the rebuilt index")
    return 0


async def _refuse_if_read_only(engine: Any, settings: Any, name: str, what: str) -> None:
    """A read-only command refuses to write to ``name``, once it has said so of a collection
    that does not exist (the engine checks its own read-only setting itself)."""
    from roocode_tui.core.errors import CollectionNotFoundError

    if not settings.read_only:
        return
    try:
        await engine.collection(name)
    except CollectionNotFoundError:
        raise CollectionNotFoundError(f"collection {name!r} does not exist") from None
    output.refuse_if_read_only(settings, what)
