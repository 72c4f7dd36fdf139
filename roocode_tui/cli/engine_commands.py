"""The command line's engine faces: finding or starting the engine, `serve`, `status`, an index
run submitted and followed, and collections answered by the engine. ``commands.py`` holds
``run`` and the other commands, ``search.py`` the search command, ``output.py`` what they print."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from roocode_tui.cli import output
from roocode_tui.engine.connect import open_engine, release_store_first  # noqa: F401 - the faces' way in


def face_name() -> str:
    import getpass

    try:
        tty = os.ttyname(sys.stdin.fileno()) if sys.stdin.isatty() else "no terminal"
    except OSError:
        tty = "no terminal"
    return f"cli pid {os.getpid()} ({getpass.getuser()}, {tty})"


async def serve(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui.engine.client import running, stop
    from roocode_tui.engine.paths import served_store

    if args.stop:
        client = await running(settings, check=False)
        if client is None:
            print(f"no engine is running for {served_store(settings)}", file=sys.stderr)
            return 0
        serves = client.serves or served_store(settings)
        print(f"stopping the engine (pid {client.pid}) of {serves} ...", file=sys.stderr)
        await stop(settings, client)
        print(f"the engine (pid {client.pid}) has exited", file=sys.stderr)
        return 0
    if args.idle_exit is not None:
        settings.engine.idle_exit_s = max(0.0, args.idle_exit)
    from roocode_tui.engine.server import serve

    def announce(engine: Any, sock: Any) -> None:
        idle = settings.engine.idle_exit_s
        when = f"exits after {idle:.0f} s idle" if idle else "runs until stopped"
        print(f"roocode-tui engine {engine.pid} on {sock} ({when}; Ctrl-C stops it)", file=sys.stderr, flush=True)

    mcp = None
    if settings.engine.mcp:
        from roocode_tui.mcp.server import engine_app as mcp

    return await serve(settings, announce=announce, mcp=mcp, for_index=getattr(args, "for_index", False))


async def status(settings: Any, args: argparse.Namespace) -> int:
    from roocode_tui.engine.client import others, running
    from roocode_tui.engine.paths import served_store

    client = await running(settings)
    elsewhere = [] if args.follow else await others(settings)
    if client is None:
        if args.json:
            print(json.dumps({"engine": None, "serves": served_store(settings), "other_engines": elsewhere}))
        else:
            print(
                f"no engine is running for {served_store(settings)} (the next command starts one; "
                "roocode-tui serve runs one in the foreground)"
            )
            print_others(elsewhere)
        return 3
    try:
        if not args.follow:
            status = await client.status()
            status["collections"] = [info.to_json() for info in await client.collections()]
            status["other_engines"] = elsewhere
            if args.json:
                print(json.dumps(status))
            else:
                print_status(status)
                print_others(elsewhere)
            return 0
        return await follow_status(client, args)
    finally:
        await client.aclose()


async def watch(settings: Any, args: argparse.Namespace) -> int:
    """``watch [NAME...] [--off]``: the engine's watchers, turned on or off."""
    from roocode_tui.core.errors import UsageError

    if not settings.engine.enabled:
        raise UsageError("watching needs the background engine: run it without --no-engine (engine.enabled = true)")
    if args.names and not args.off:
        output.refuse_if_read_only(settings, "watch")
    engine = await open_engine(settings)
    try:
        states = [await engine.set_watch(name, not args.off) for name in args.names]
        if not args.names:
            states = (await engine.status()).get("watchers", [])
        if args.json:
            print(json.dumps({"watchers": states}))
        elif not states:
            print("no collection is watched: roocode-tui watch NAME")
        else:
            for w in states:
                print(watcher_line(w))
        return 0
    finally:
        await engine.aclose()


async def mcp(settings: Any, args: argparse.Namespace) -> int:
    """``mcp``: the MCP server over stdio, or (``--print-config AGENT``) the config that starts it."""
    from roocode_tui.mcp import server as mcp_server

    if args.print_config:
        command, base = mcp_command()
        extra = ["--config", str(settings.config_path)] if settings.config_path else []
        extra += ["--read-only"] if settings.read_only else []
        config = mcp_server.client_config(
            args.print_config, command=command, args=[*base, "mcp", *extra], env=agent_env()
        )
        print(json.dumps(config, indent=2))
        dropped = sorted(k for k in os.environ if k.startswith("ROOCODE_TUI_") and k != "ROOCODE_TUI_CONFIG")
        if dropped:
            print(
                f"roocode-tui: note: an agent starts the server without your environment ({', '.join(dropped)}): "
                "put those settings in the config file",
                file=sys.stderr,
            )
        return 0
    return await mcp_server.serve_stdio(settings, workspace=args.workspace)


def agent_env() -> dict[str, str]:
    """What an agent must pass for the server to find this user's engine: XDG_RUNTIME_DIR when
    it is not the one a trimmed environment falls back to (engine/paths.py)."""
    from roocode_tui.engine.paths import systemd_runtime_dir

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return {"XDG_RUNTIME_DIR": runtime} if runtime and runtime != systemd_runtime_dir() else {}


def mcp_command() -> tuple[str, list[str]]:
    """How an agent starts this install: its ``roocode-tui`` script, or this Python with -m."""
    from pathlib import Path

    script = Path(sys.executable).parent / "roocode-tui"
    if script.is_file() and os.access(script, os.X_OK):
        return str(script), []
    return sys.executable, ["-m", "roocode_tui.cli"]


def watcher_line(w: dict[str, Any]) -> str:
    from roocode_tui.core.display import inert

    if w.get("state") == "not watched":
        return f"{inert(w['collection'])}: not watched"
    parts = [f"{inert(w['collection'])}: {w['state']}"]
    if w.get("pending"):
        parts.append(f"{w['pending']} changed")
    parts.append(f"last sync {w['last_sync']}" if w.get("last_sync") else "not synced yet")
    if w.get("directories"):
        parts.append(f"{w['directories']:,} directories")
    line = ", ".join(parts)
    return line + (f" ({inert(w['reason'])})" if w.get("reason") else "")


async def follow_status(client: Any, args: argparse.Namespace) -> int:
    """Runs as they change, until Ctrl-C (or the engine goes: exit 1)."""
    import asyncio

    from rich.console import Console
    from rich.live import Live

    from roocode_tui.core.errors import EngineGoneError

    last = None
    try:
        if args.json:
            while True:
                status = await client.status()
                seen = {k: status.get(k) for k in ("runs", "watchers", "search_index")}
                key = json.dumps(seen, sort_keys=True)
                if key != last:
                    last = key
                    print(json.dumps(status), flush=True)
                await asyncio.sleep(0.5)
        with Live(console=Console(stderr=False), auto_refresh=False) as live:
            while True:
                status = await client.status()
                live.update(live_view(status), refresh=True)
                await asyncio.sleep(0.5)
    except EngineGoneError as exc:
        output.err(str(exc))
        return 1
    except asyncio.CancelledError:
        return 0


def store_line(store: dict[str, Any]) -> str:
    """An engine's store as status shows it: ``embedded (~/.local/share/roocode-tui)``."""
    from roocode_tui.core.display import display_path, inert

    return f"{inert(store['backend'])} ({display_path(store['where'])})"


def print_others(engines: list[dict[str, Any]]) -> None:
    """The user's engines of other stores, one line each."""
    from rich.console import Console
    from rich.text import Text

    from roocode_tui.core.display import display_path, inert

    if not engines:
        return
    console = Console(highlight=False)
    console.print(Text(f"other engines of this user ({len(engines)}):"))
    for e in engines:
        config = display_path(e["config"]) if e.get("config") else "no config file"
        console.print(Text(f"  pid {e['pid']}: {store_line(e['store'])}, roocode-tui {e['version']}, {inert(config)}"))


def print_status(status: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.text import Text

    from roocode_tui.core.display import display_path, inert

    console = Console(highlight=False)
    store = status["store"]
    head = Text(f"engine {status['pid']}", style="bold")
    head.append(f"  roocode-tui {status['version']}, since {status['started_at']}")
    head.append(f"\n  config: {display_path(status['config']) if status['config'] else 'none (defaults)'}")
    head.append(f"\n  store: {store_line(store)}")
    embedder = status["embedder"]
    model = embedder.get("model_id") or embedder.get("model") or "(default model)"
    head.append(f"\n  embedder: {inert(embedder['provider'])} {inert(model)}")
    if status.get("read_only"):
        head.append("\n  read-only", style="yellow")
    if status.get("listen"):
        head.append(f"\n  tcp: {status['listen']} (token in {display_path(status.get('token_file') or '?')})")
    console.print(head)
    names = [c["name"] for c in status.get("collections", [])]
    console.print(Text(f"collections: {inert(', '.join(names)) if names else 'none'}"))
    console.print(live_view(status))


def live_view(status: dict[str, Any]) -> Any:
    """What changes while the engine works: its search-index builds, watchers and runs."""
    from rich.console import Group
    from rich.text import Text

    lines = [index_line(status.get("search_index") or {})]
    lines += [Text("watching " + watcher_line(w)) for w in status.get("watchers") or []]
    return Group(*lines, runs_table(status))


def index_line(index: dict[str, Any]) -> Any:
    """The engine's background search-index builds: the one under way, the ones waiting."""
    from rich.text import Text

    from roocode_tui.core.display import inert, search_index_label

    if not index.get("enabled"):
        return Text("search index: built on demand (roocode-tui collections optimize)", style="dim")
    line = Text("search index: ")
    building = index.get("building")
    if building:
        line.append(f"{search_index_label(building)} for {inert(building['collection'])}", style="cyan")
    else:
        line.append(f"built in the background {index.get('after_s', 0):g} s after a run")
    if index.get("budget_mb"):
        line.append(f", within {index['budget_mb']} MB")
    if index.get("waiting"):
        line.append(f"; to look at: {inert(', '.join(index['waiting']))}")
    for name, last in sorted((index.get("last") or {}).items()):
        if last.get("deferred"):
            line.append(f"\n  {inert(name)}: deferred: {inert(last['deferred'])}", style="yellow")
    return line


def runs_table(status: dict[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    from roocode_tui.core.display import inert
    from roocode_tui.engine.api import RunSnapshot

    runs = [RunSnapshot.from_json(r) for r in status.get("runs", [])]
    if not runs:
        return Text("no index runs yet", style="dim")
    table = Table(box=None, header_style="bold", title=None)
    for col in ("run", "collection", "state", "files", "chunks", "rate", "ETA", "current file / outcome", "by"):
        table.add_column(col)
    for r in runs:
        total = r.files_total if r.files_total is not None else "?"
        rate = f"{r.chunks_per_s:.1f}/s" if r.chunks_embedded else ""
        eta = f"{r.eta_s:.0f}s" if r.eta_s is not None and r.active else ""
        now = r.current_file if r.active else (r.message or f"{r.files_indexed} indexed, {r.files_failed} failed")
        table.add_row(
            r.id,
            inert(r.collection),
            r.phase + (f" ({r.waiting})" if r.waiting else ""),
            f"{r.files_done}/{total}",
            f"{r.chunks_done}/{r.chunks_total}",
            rate,
            eta,
            Text(inert(now)),
            Text(inert(r.started_by), style="dim"),
        )
    return table


async def index_in_engine(engine: Any, args: argparse.Namespace) -> int:
    """Submit the run to the engine (the background one, or one in this process) and follow it:
    the progress bar, the summary or ``--json``, the exit codes; Ctrl-C cancels it; ``--detach``
    leaves it going."""
    import asyncio

    run = await engine.start_run(
        list(args.paths),
        args.collection,
        rebuild=args.rebuild,
        schema=args.schema,
        cwd=os.getcwd(),
        started_by=face_name(),
        agent_cache=getattr(args, "write_cache", None),
        reuse=not getattr(args, "no_reuse", False),
        dry_run=getattr(args, "dry_run", False),
    )
    if args.detach:
        if args.json:
            print(json.dumps({"run": run.id, "collection": run.collection, "engine_pid": engine.pid}))
        else:
            print(
                f"run {run.id} indexes {run.collection} in the engine (pid {engine.pid}); "
                "follow it: roocode-tui status --follow",
                file=sys.stderr,
            )
        return 0
    if run.rebuild and not args.json:
        print(
            f"rebuilding {run.collection} into a new index; searches use the current one until "
            "it is complete (Ctrl-C keeps the current one; running the rebuild again resumes)",
            file=sys.stderr,
        )
    view = RunView(run, engine)
    show_bar = not args.json and sys.stderr.isatty()
    try:
        if show_bar:
            await output.index_with_bar(view)
        else:
            await view.run()
    except asyncio.CancelledError:
        final = await asyncio.shield(engine.cancel(run.id))
        view.indexer.progress = final
        output.finish_index_output(view.indexer, args, interrupted=True)
        raise KeyboardInterrupt from None
    final = view.progress
    if final.phase == "failed" and final.error_type:
        from roocode_tui.core.errors import error_from

        raise error_from(final.error_type, final.message)
    if final.phase == "cancelled":  # from another face (F2, or a Ctrl-C elsewhere)
        output.finish_index_output(view.indexer, args, interrupted=True)
        return 130
    return output.finish_index_output(view.indexer, args)


class RunView:
    """An engine's run seen through the Indexer's face (``run()``, ``progress``, ``_on_progress``),
    which is what the progress bar and the summary read."""

    def __init__(self, snapshot: Any, engine: Any):
        self.progress = snapshot
        self._engine = engine
        self._on_progress: Any = None
        self.indexer = self

    async def run(self) -> Any:
        async for snap in self._engine.follow(self.progress.id):
            self.progress = snap
            if self._on_progress is not None:
                self._on_progress(snap)
        return self.progress


async def collections_in_engine(engine: Any, settings: Any, args: argparse.Namespace) -> int:
    """``collections list | info | delete`` answered by the engine."""
    from roocode_tui.core.errors import UsageError

    if args.action == "list":
        infos = await engine.collections()
        if args.json:
            print(json.dumps({"collections": [info.to_json() for info in infos]}))
        elif not infos:
            print("no collections yet: roocode-tui index PATH --collection NAME")
        else:
            output.print_collection_rows(infos)
        return 0
    name = args.name
    info = await engine.collection(name)  # a missing collection is one line, exit 2
    if args.action == "info":
        if args.json:
            print(json.dumps(info.to_json()))
        else:
            for key, value in info.to_json().items():
                print(f"{key:>17}: {value}")
        return 0
    output.refuse_if_read_only(settings, "collections delete")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"refusing to delete {name!r} without --yes (no terminal to ask on)")
        answer = input(f"Delete collection {name!r} and its {info.points} points? Type its name to confirm: ")
        if answer.strip() != name:
            print("not deleted")
            return 1
    await engine.delete_collection(name)
    print(json.dumps({"deleted": name}) if args.json else f"deleted collection {name}")
    return 0
