"""The command line for moving collections: ``collections copy``, ``snapshot``, ``snapshots``, ``restore``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from roocode_tui.core.display import inert

COPY_HELP = """\
Copy a collection to another store without embedding anything again: every point moves with
its dense and keyword vectors and its payload, and the copy is created with the source's build
record (model, dimension, prefixes, hybrid). The source is the configured store.

where the copy goes:
  --to embedded   the embedded store at --path DIR, or store.path (default: the user data dir)
  --to qdrant     the Qdrant server at --url URL, or store.url; with neither, --path DIR names a
                  directory for qdrant-client's local mode. The other [store] settings (api_key,
                  https, verify_tls, ca_cert, timeout_s, HNSW, shards) apply to the target too.

The copy is a run of the engine (F2 and `roocode-tui status` show it, F2 can cancel it);
this command follows it, and Ctrl-C cancels it (--detach leaves it going). An interrupted copy
(Ctrl-C, a crash, a server going away) continues where it stopped when run again; point ids
are stable, so nothing is duplicated. An existing collection of that name that
is not an unfinished copy of this one is refused (use --as NEWNAME).

examples:
  roocode-tui collections copy docs --to qdrant --url http://192.168.1.100:6333
  ROOCODE_TUI_STORE__BACKEND=qdrant ROOCODE_TUI_STORE__URL=http://192.168.1.100:6333 \\
      roocode-tui collections copy docs --to embedded --as docs-backup
"""

SNAPSHOT_HELP = """\
Write a snapshot of a collection to a file.

embedded store: a .tar.gz of the collection's shard and build record, with a manifest (format,
  point count); taken while this process holds the collection, so it is consistent. It only
  reads the store (allowed with --read-only).
Qdrant server: Qdrant's snapshot API makes the snapshot on the server (which keeps it: see
  collections snapshots), then it is downloaded with store.api_key and the TLS settings.
Qdrant local mode has no snapshots.

Default file: snapshots/NAME.<UTC time>.tar.gz (or .snapshot) in the store's data dir.

examples:
  roocode-tui collections snapshot docs
  roocode-tui collections snapshot docs --out /backups/
  roocode-tui collections restore docs-restored ~/.local/share/roocode-tui/snapshots/docs.20260102T030405Z.tar.gz
"""


def add_parsers(csub: Any, common: argparse.ArgumentParser) -> None:
    """The subcommands of ``collections`` defined here."""
    raw = argparse.RawDescriptionHelpFormatter
    q = csub.add_parser(
        "copy",
        parents=[common],
        help="copy a collection to another store, without re-embedding (resumable)",
        description=COPY_HELP,
        formatter_class=raw,
    )
    q.add_argument("name", metavar="NAME", help="the collection in the configured store")
    q.add_argument("--to", required=True, choices=["embedded", "qdrant"], help="the kind of store to copy into")
    q.add_argument("--as", dest="new_name", metavar="NEWNAME", help="the copy's name (default: NAME)")
    q.add_argument("--url", metavar="URL", help="with --to qdrant: the target server (default: store.url)")
    q.add_argument(
        "--path",
        metavar="DIR",
        type=Path,
        help="with --to embedded: the target data dir (default: store.path); with --to qdrant and no URL: "
        "a directory for qdrant-client's local mode",
    )
    q.add_argument("--detach", action="store_true", help="start the copy in the engine and return")
    q.add_argument("--json", action="store_true", help="print one JSON object with the counts at the end")

    q = csub.add_parser(
        "snapshot", parents=[common], help="write a snapshot of a collection to a file", description=SNAPSHOT_HELP
    )
    q.formatter_class = raw
    q.add_argument("name", metavar="NAME")
    q.add_argument("--out", metavar="FILE", type=Path, help="the file (or a directory for it) to write")
    q.add_argument("--json", action="store_true")

    q = csub.add_parser(
        "snapshots",
        parents=[common],
        help="list a collection's snapshots",
        description="List the snapshot files of a collection in the snapshots dir of the store's data dir "
        "and, on a Qdrant server, the snapshots the server keeps.",
    )
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true")

    q = csub.add_parser(
        "restore",
        parents=[common],
        help="restore a snapshot file into a new collection",
        description="Restore a snapshot FILE (from collections snapshot) into the new collection NAME. "
        "An existing collection is never replaced: the name must be new. The embedded store checks the "
        "snapshot's manifest and point count before the collection appears; a Qdrant server gets the "
        "file uploaded as a priority snapshot.",
    )
    q.add_argument("name", metavar="NAME", help="the new collection's name")
    q.add_argument("file", metavar="FILE", type=Path)
    q.add_argument("--json", action="store_true")


ACTIONS = ("copy", "snapshot", "snapshots", "restore")


async def run(settings: Any, args: argparse.Namespace, refuse_if_read_only: Any) -> int:
    if args.action == "copy":
        refuse_if_read_only(settings, "collections copy")
    if args.action == "restore":
        refuse_if_read_only(settings, "collections restore")
    if args.action == "snapshot" and settings.read_only and settings.store.backend != "embedded":
        refuse_if_read_only(settings, "collections snapshot (it creates the snapshot on the server)")
    from roocode_tui.cli import engine_commands

    engine = await engine_commands.open_engine(settings)
    try:
        if args.action == "copy":
            return await _copy(engine, args)
        if args.action == "snapshot":
            return await _snapshot(engine, args)
        if args.action == "snapshots":
            return await _list(engine, args)
        return await _restore(engine, args)
    finally:
        await engine.aclose()


async def _snapshot(engine: Any, args: argparse.Namespace) -> int:
    from roocode_tui.core.collections.snapshots import Snapshot

    out = str(Path(args.out).expanduser().absolute()) if args.out else None  # the engine's cwd is not ours
    snap = Snapshot.from_json(await engine.snapshot(args.name, out))
    if args.json:
        print(json.dumps(snap.to_json()))
    else:
        points = f", {snap.points} points" if snap.points is not None else ""
        print(f"snapshot of {inert(args.name)}: {inert(str(snap.path))} ({_size(snap.size)}{points})")
    return 0


async def _list(engine: Any, args: argparse.Namespace) -> int:
    from roocode_tui.core.collections.snapshots import Snapshot

    found = [Snapshot.from_json(s) for s in await engine.snapshots(args.name)]
    if args.json:
        print(json.dumps({"collection": args.name, "snapshots": [s.to_json() for s in found]}))
        return 0
    if not found:
        print(f"no snapshots of {inert(args.name)} (roocode-tui collections snapshot {inert(args.name)} makes one)")
    for s in found:
        where = str(s.path) if s.path else f"{s.name} (kept by the server)"
        print(f"{s.created_at or '?':<26} {_size(s.size):>10}  {inert(where)}")
    return 0


async def _restore(engine: Any, args: argparse.Namespace) -> int:
    file = str(Path(args.file).expanduser().absolute())
    done = await engine.restore(args.name, file)
    if args.json:
        print(json.dumps(done))
    else:
        print(f"restored {inert(str(args.file))} into the new collection {inert(args.name)} ({done['points']} points)")
    return 0


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


async def _copy(engine: Any, args: argparse.Namespace) -> int:
    """Start the copy in the engine and follow it: the bar, the summary or ``--json``; Ctrl-C
    cancels it (it continues when run again), ``--detach`` leaves it going."""
    import asyncio

    from roocode_tui.cli import engine_commands
    from roocode_tui.core.errors import error_from

    path = str(Path(args.path).expanduser().absolute()) if args.path else None  # the engine's cwd is not ours
    run = await engine.start_copy(
        args.name, args.to, url=args.url, path=path, new_name=args.new_name, started_by=engine_commands.face_name()
    )
    if args.detach:
        if args.json:
            print(json.dumps({"run": run.id, "collection": run.collection, "engine_pid": engine.pid}))
        else:
            print(
                f"run {run.id} copies {inert(args.name)} in the engine (pid {engine.pid}); "
                "follow it: roocode-tui status --follow",
                file=sys.stderr,
            )
        return 0
    bar = _Bar(f"{args.name} → {args.new_name or args.name}") if not args.json and sys.stderr.isatty() else None
    final = run
    try:
        async for snap in engine.follow(run.id):
            final = snap
            if bar:
                bar.update(snap)
    except asyncio.CancelledError:
        final = await asyncio.shield(engine.cancel(run.id))
        print(f"roocode-tui: {inert(final.message or 'interrupted')}", file=sys.stderr)
        raise KeyboardInterrupt from None
    finally:
        if bar:
            bar.stop()
    report = final.report_json
    if final.phase == "failed":
        raise error_from(final.error_type or "RoocodeError", final.message)
    if final.phase == "cancelled":  # from another face
        print(f"roocode-tui: {inert(final.message or 'cancelled')}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report))
    else:
        resumed = f" (continued after {report['resumed_from']})" if report.get("resumed_from") else ""
        print(
            f"copied {inert(args.name)} from the {inert(report['source'])} to {inert(report['target_collection'])} "
            f"in the {inert(report['target'])}: {report['points_copied']} points{resumed} in "
            f"{report['seconds']:.1f}s",
            file=sys.stderr,
        )
    return 0


class _Bar:
    def __init__(self, title: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.progress.add_task(inert(title), total=None, rate="")
        self.progress.start()

    def update(self, run: Any) -> None:
        """From a copy run's snapshot: points stand where an index run has chunks."""
        self.progress.update(
            self.task,
            total=run.chunks_total or None,
            completed=run.points_written,
            rate=f"{run.chunks_per_s:.0f} points/s",
        )

    def stop(self) -> None:
        self.progress.stop()
