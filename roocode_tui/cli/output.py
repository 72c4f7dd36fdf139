"""What the command line prints, shared by its in-process commands (commands.py) and those the
engine answers (engine_commands.py, transfer.py): errors, the index run's bar and summary,
search results, eval tables and collection rows."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roocode_tui.core.results import SearchResult
    from roocode_tui.core.stores.base import CollectionInfo


def err(message: str) -> None:
    print(f"roocode-tui: error: {message}", file=sys.stderr)


async def index_with_bar(indexer: Any) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        files = bar.add_task("files", total=None, counts="", rate="")
        chunks = bar.add_task("chunks", total=None, counts="", rate="")

        def update(p: Any) -> None:
            eta = p.eta_s
            bar.update(
                files,
                total=p.files_total,
                completed=p.files_done,
                counts=f"{p.files_done}/{p.files_total if p.files_total is not None else '?'} "
                f"({p.files_unchanged} unchanged, {p.files_skipped} skipped, {p.files_failed} failed)",
                rate="",
            )
            bar.update(
                chunks,
                total=p.chunks_total or None,
                completed=p.chunks_done,
                counts=f"{p.chunks_done}/{p.chunks_total}",
                rate=f"{p.chunks_per_s:.1f} chunks/s" + (f"  ETA {eta:.0f}s" if eta is not None else ""),
            )

        indexer._on_progress = update
        await indexer.run()
        update(indexer.progress)


def refuse_if_read_only(settings: Any, what: str) -> None:
    from roocode_tui.core.errors import UsageError

    if settings.read_only:
        raise UsageError(f"read-only mode: {what} would write to the store (drop --read-only / read_only = true)")


def print_plan(report: dict[str, Any]) -> None:
    """``index --dry-run``: the files a run would index and skip, what it would embed after reuse,
    and its time and cost."""
    from roocode_tui.core.display import inert

    files, skipped = report.get("files", []), report.get("skipped_files", [])
    print(f"plan for collection {inert(report['collection'])} (nothing embedded or written):")
    print(
        f"would index {len(files):,} files; {report['files_unchanged']:,} unchanged, "
        f"{report['files_skipped']:,} skipped, {report['files_deleted']:,} gone (their points would be deleted)"
    )
    width = min(60, max((len(f["path"]) for f in files), default=0))
    for f in files:
        embed = f"{f['embed']:,} to embed ({f['tokens']:,} tokens)" if f["embed"] else "nothing to embed"
        chunks = f"{f['chunks']:,} chunk" + ("s" if f["chunks"] != 1 else "")
        print(f"  {inert(f['path']):<{width}}  {chunks}, {embed}")
    if skipped:
        print("skipped:")
        for s in skipped:
            print(f"  {inert(s['path'])}: {inert(s['reason'])}")
    print(inert(report["message"]))


def finish_index_output(indexer: Any, args: argparse.Namespace, interrupted: bool = False) -> int:
    p = indexer.progress
    report = p.report()
    wants_cache = getattr(args, "write_cache", None) is not None
    if report.get("dry_run") and not interrupted and p.phase == "done":
        print(json.dumps(report, ensure_ascii=True)) if args.json else print_plan(report)
        return 0
    if args.json:
        print(json.dumps(report, ensure_ascii=True))
    else:
        from roocode_tui.core.display import inert, reused_label

        status = "interrupted" if interrupted else p.phase
        if report.get("schema_why"):
            print(f"--schema auto chose {report['schema']}: {report['schema_why']}", file=sys.stderr)
        print(
            f"{status}: collection {p.collection}: {p.files_indexed} indexed, {p.files_unchanged} "
            f"unchanged, {p.files_skipped} skipped, {p.files_failed} failed, {p.files_deleted} "
            f"deleted; {p.chunks_embedded} chunks embedded, {reused_label(p)}, "
            f"{p.points_written} points written in {p.elapsed:.1f}s",
            file=sys.stderr,
        )
        for e in p.errors[:20]:
            print(f"  failed: {inert(e.path)}: {inert(e.reason)}", file=sys.stderr)
        if p.files_failed > 20:
            print(f"  ... and {p.files_failed - 20} more (see --json)", file=sys.stderr)
        if p.message and (interrupted or p.rebuild or wants_cache or report.get("schema")):
            print(inert(p.message), file=sys.stderr)
    if wants_cache and not interrupted and not report.get("agent_cache"):
        return 1  # the index is there, the agent's cache is not (the message says why)
    return 1 if p.files_failed else 0


def print_results(results: list[SearchResult], *, json_out: bool, batch: bool = False, explain: bool = False) -> int:
    """A search's results as the command prints them, however they were answered (cli/search.py):
    one JSON line per query (``--batch``), the first one's JSON, or its hits or files as text."""
    if batch:
        for result in results:
            print(json.dumps({"query": result.query, "results": result.to_json()["results"]}, ensure_ascii=True))
        return 0
    result = results[0]
    if json_out:
        print(json.dumps(result.to_json(), ensure_ascii=True))
        return 0
    if result.note:
        print(f"note: {result.note}", file=sys.stderr)
    if result.files is not None:
        print_files(result, explain)
    else:
        print_hits(result, explain)
    return 0


def print_files(result: SearchResult, explain: bool) -> None:
    from rich.console import Console
    from rich.text import Text

    from roocode_tui.core.display import explain_line, inert

    console = Console(highlight=False)
    if not result.files:
        console.print(Text(f"no results in {result.collection}", style="yellow"))
        return
    for rank, found in enumerate(result.files, 1):
        console.print(result_head(rank, found.score, found.collection, found.path))
        for hit in found.hits:
            line = Text(f"      {hit.start_line}-{hit.end_line}", style="dim")
            if hit.heading:
                line.append("  " + inert(hit.heading), style="magenta")
            console.print(line, overflow="ellipsis", no_wrap=True)
            if explain and hit.explain:
                console.print(Text("        " + inert(explain_line(hit.explain)), style="dim"))
    console.print(
        Text(
            f"{len(result.files)} files from {result.collection}, {result.mode} "
            f"(embed {result.embed_ms:.0f} ms, store {result.store_ms:.0f} ms)",
            style="dim",
        )
    )


def search_request(args: argparse.Namespace) -> tuple[list[str], str | None, str | None]:
    """The queries and filters of a ``search`` command line (checked)."""
    from roocode_tui.core.display import parse_inline_filters
    from roocode_tui.core.errors import UsageError

    if args.limit < 1 or args.limit > 1000:
        raise UsageError("--limit must be between 1 and 1000")
    if args.batch:
        return read_batch(args.batch), args.path, args.lang
    if not args.query:
        raise UsageError("give a QUERY, or --batch FILE")
    query, inline_path, inline_lang = parse_inline_filters(args.query)
    if not query:
        raise UsageError("the query is empty")
    return [query], args.path or inline_path, args.lang or inline_lang


def read_batch(source: str) -> list[str]:
    from roocode_tui.core.errors import UsageError

    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read --batch file {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--batch file {source} is not UTF-8 text") from None
    queries = [line.strip() for line in text.splitlines() if line.strip()]
    if not queries:
        raise UsageError(f"--batch file {source} holds no queries")
    return queries


def result_head(rank: int, score: float, collection: str, where: str) -> Any:
    """``" 1. 0.812 [collection: ]path..."``: a result's first line (a collection is named in a
    search of several)."""
    from rich.text import Text

    from roocode_tui.core.display import inert

    head = Text()
    head.append(f"{rank:>2}. ", style="bold")
    head.append(f"{score:.3f} ", style="green")
    if collection:
        head.append(inert(f"{collection}: "), style="cyan")
    head.append(inert(where), style="bold cyan")
    return head


def print_hits(result: SearchResult, explain: bool = False) -> None:
    from rich.console import Console
    from rich.text import Text

    from roocode_tui.core.display import explain_line, inert

    console = Console(highlight=False)
    if not result.hits:
        console.print(Text(f"no results in {result.collection}", style="yellow"))
        return
    for rank, hit in enumerate(result.hits, 1):
        head = result_head(rank, hit.score, hit.collection, f"{hit.path}:{hit.start_line}-{hit.end_line}")
        if hit.heading:
            head.append("  " + inert(hit.heading), style="magenta")
        console.print(head)
        if explain and hit.explain:
            console.print(Text("    why: " + inert(explain_line(hit.explain)), style="yellow"))
        lines = hit.text.splitlines()
        for offset, line in enumerate(lines[:6]):
            body = Text(f"    {hit.start_line + offset:>5} │ ", style="dim")
            body.append(inert(line))
            console.print(body, overflow="ellipsis", no_wrap=True)
        if len(lines) > 6:
            console.print(Text(f"          … {len(lines) - 6} more lines", style="dim"))
    console.print(
        Text(
            f"{len(result.hits)} results from {result.collection}, {result.mode} "
            f"(embed {result.embed_ms:.0f} ms, store {result.store_ms:.0f} ms)",
            style="dim",
        )
    )


def stderr_progress(quiet: bool) -> Callable[..., None]:
    """One-line progress on stderr (redrawn in place on a terminal)."""
    tty = sys.stderr.isatty()

    def say(text: str, transient: bool = False) -> None:
        if quiet and not tty:
            return
        if tty:
            print("\r\033[K" + text, end="" if transient else "\n", file=sys.stderr, flush=True)
        elif not transient:
            print(text, file=sys.stderr, flush=True)

    return say


def print_eval(name: str, asked: int, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    kinds = sorted({k for r in rows for k in (r.get("by_kind") or {})})
    table = Table(
        title=f"{name}: {asked} questions; file-level NDCG@10, MRR@10, Recall@10; NDCG@10 per kind and half",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in ("setup", "NDCG", "MRR", "R@10", *kinds, "tune", "held-out"):
        table.add_column(col, justify="left" if col == "setup" else "right", no_wrap=True)
    for r in rows:
        by_kind = r.get("by_kind") or {}
        halves = r["by_half"]
        table.add_row(
            r["setup"],
            f"{r['ndcg@10']:.3f}",
            f"{r['mrr@10']:.3f}",
            f"{r['recall@10']:.3f}",
            *(f"{by_kind[k]['ndcg@10']:.3f}" if k in by_kind else "-" for k in kinds),
            f"{halves['tune']['ndcg@10']:.3f}",
            f"{halves['held-out']['ndcg@10']:.3f}",
        )
    Console(highlight=False).print(table)


def print_collection_rows(infos: list[CollectionInfo]) -> None:
    """``collections list``: one row per collection, as the engine describes it."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from roocode_tui.core.display import inert, search_index_label

    table = Table(box=None, header_style="bold")
    for col in ("name", "points", "dim", "model", "search", "last indexed", "paths"):
        table.add_column(col, justify="right" if col in ("points", "dim") else "left")
    for info in infos:
        roo, meta = info.roo, info.meta
        if roo is not None:
            cells = (
                info.name,
                str(info.points),
                str(meta.dimension if meta else roo.dimension),
                f"{roo.owner or 'roo-code'} ({roo.state})",
                search_index_label(info.search_index),
                roo.when or "?",
                info.workspace or "workspace unknown: roocode-tui roo which PATH",
            )
        else:
            cells = (
                info.name,
                str(info.points),
                str(meta.dimension) if meta else "?",
                meta.model if meta else "?",
                search_index_label(info.search_index),
                (meta.last_indexed_at or "never") if meta else "?",
                ", ".join(meta.paths if meta else []),
            )
        table.add_row(*(Text(inert(c)) for c in cells))
    Console(highlight=False).print(table)


def print_agents(found: dict[str, Any], where: str) -> None:
    """``agents which``: one line per coding agent, then whose the workspace's index is."""
    from roocode_tui.core.display import inert

    print(inert(found["workspace"]))
    for a in found["agents"]:
        if a["exists"]:
            complete = a.get("indexing_complete")
            state = "no marker" if complete is None else "complete" if complete else "incomplete"
            layout = "Kilo Code's layout" if a.get("layout") == "kilo-code" else "Roo Code's layout"
            there = f"in {where}, {a['points']} points, {a['dimension']}-d, {layout}, indexing {state}"
        else:
            there = f"not in {where}"
        print(f"  {a['label']:<10} {a['collection']}  {inert(there)}")
        installed = ", ".join(f"{i['host']} {i['version']}".strip() for i in a["installed"]) or "not installed"
        cache = f"; its cache file: {a['cache']}" if a["cache"] else ""
        print(f"  {'':<10} {inert(installed + cache)}")
    owner = found["owner"]
    if owner["agent"]:
        print(f"indexed by {owner['agent']} ({inert(owner['why'])}): --schema auto takes it")
    else:
        print(f"indexed by: cannot tell ({inert(owner['why'])}); name the agent with --schema")
