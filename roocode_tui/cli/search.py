"""The search command's one route: the request built once (``search_request``), sent through the
thin transport to a running engine of the same settings when it can be (engine/quick.py: the
standard library only; ``thin``), else through the engine's client, or the engine in this
process (``search``). Both give the same typed results (core/results.py), printed by
``output.print_results``; an engine's refusal is the same one-line error and exit code.

entry.py sends a plain search through the same transport before the command line is parsed,
and prints ``--json`` as the engine wrote it (the bytes ``print_results`` would print).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from roocode_tui.cli import output
from roocode_tui.core.errors import RoocodeError
from roocode_tui.engine import quick


def search_request(args: argparse.Namespace) -> dict[str, Any]:
    """The search a ``search`` command line asks for (checked: a UsageError says what is wrong)."""
    queries, path, lang = output.search_request(args)
    return quick.search_request(
        queries,
        args.collection,
        limit=args.limit,
        path=path,
        lang=lang,
        mode=args.mode,
        cwd=os.getcwd(),
        ranking=args.ranking,
        explain=bool(args.explain),
        group_by="file" if args.files else None,
    )


def thin(args: argparse.Namespace) -> int | None:
    """The search answered by a running engine of the same settings through the thin transport,
    printed; None: none answered (the full path asks the engine's client, and says what is
    wrong with the command line in its usual words)."""
    try:
        request = search_request(args)
    except RoocodeError:
        return None
    return show(quick.search(getattr(args, "config", None), request), **flags(args))


def show(answer: tuple[int, bytes] | None, *, json_out: bool, batch: bool = False, explain: bool = False) -> int | None:
    """The thin transport's answer (HTTP status, JSON body) printed as the command prints
    results or an error: the exit code; None when there was none, or it is not JSON."""
    if answer is None:
        return None
    try:
        results = read_answer(*answer)
    except RoocodeError as exc:
        output.err(str(exc))
        return exc.exit_code
    if results is None:
        return None
    return output.print_results(results, json_out=json_out, batch=batch, explain=explain)


def read_answer(status: int, body: bytes) -> list[Any] | None:
    """The engine's answer to POST /search as typed results (None: not JSON); an error answer
    raises the error the engine raised."""
    import json

    from roocode_tui.core.errors import error_from
    from roocode_tui.core.results import SearchResult

    try:
        data = json.loads(body)
    except ValueError:
        return None
    if status >= 400:
        err = data.get("error") or {}
        raise error_from(str(err.get("type")), str(err.get("message")))
    return [SearchResult.from_json(r) for r in data.get("results", [])]


async def search(settings: Any, args: argparse.Namespace) -> int:
    """The full path: the engine's client (the engine started when none runs), or the engine in
    this process with the engine off."""
    from roocode_tui.engine.connect import open_engine

    request = search_request(args)
    engine = await open_engine(settings)
    try:
        results = await engine.search(**request)
    finally:
        await engine.aclose()
    return output.print_results(results, **flags(args))


def flags(args: argparse.Namespace) -> dict[str, bool]:
    """How the command line asks for the results to be printed."""
    return {"json_out": bool(args.json), "batch": bool(args.batch), "explain": bool(args.explain)}
