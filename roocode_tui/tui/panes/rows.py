"""What F2 and F4 draw from the engine's answers: the rows of F4's collection table and the
lines of F2's run view, as Rich text. Pure functions of the answers (no widget state), so the
panes keep to their keys, actions and workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from roocode_tui.core.display import display_path, fmt_duration, inert, reused_label, search_index_label

if TYPE_CHECKING:
    from roocode_tui.core.stores.base import CollectionInfo


# -- F4 ----------------------------------------------------------------------------------------
def _search_cell(index: dict[str, Any] | None) -> Text:
    """How searches find neighbours: indexed (HNSW), a full scan of every vector, or the
    engine's background build under way."""
    label = search_index_label(index)
    state = (index or {}).get("state")
    return Text(label, style={"full scan": "yellow", "deferred": "yellow", "building": "cyan"}.get(state or "", ""))


def _watch_cell(watcher: dict[str, Any] | None) -> Text:
    """Whether the engine watches it, and how its sync stands."""
    if not watcher:
        return Text("—", style="dim")
    state, pending = watcher.get("state", ""), watcher.get("pending", 0)
    label = f"{pending} changed" if state == "changes pending" else state
    style = {"root missing": "red", "polling": "yellow", "syncing": "cyan", "changes pending": "cyan"}.get(state, "")
    return Text(label, style=style or "green")


def native_row(info: CollectionInfo, active: str | None, running: Any) -> list[Text]:
    """A roocode-tui collection: its model, state (a run of it under way), share indexed, search
    index, watcher, last run and paths."""
    meta = info.meta
    state = (
        ("rebuilding" if running.rebuild else "indexing")
        if running is not None and running.collection == info.name and running.active
        else info.status
    )
    if info.rebuilding is not None and state == info.status:
        state = f"rebuild paused ({info.rebuilding['points']:,} new points)"
    share = "—"
    if running is not None and running.collection == info.name and running.active and running.files_total:
        share = f"{running.files_done / running.files_total:.0%}"
    elif meta and meta.last_run:
        share = "complete" if meta.last_run.get("files_failed", 0) == 0 else f"{meta.last_run['files_failed']} failed"
    elif meta and not meta.last_indexed_at:
        share = "partial"
    name = Text(("● " if info.name == active else "  ") + inert(info.name), style="bold" if info.name == active else "")
    return [
        name,
        Text(f"{info.points:,}", justify="right"),
        Text(str(meta.dimension) if meta else "?", justify="right"),
        Text(meta.distance if meta else "?"),
        Text(inert(meta.model) if meta else "not ours", style="" if meta else "dim"),
        Text(state, style="cyan" if state in ("indexing", "rebuilding") else ""),
        Text(share),
        _search_cell(info.search_index),
        _watch_cell(info.watcher),
        Text((meta.last_indexed_at or "never").replace("T", " ").replace("+00:00", "Z") if meta else "—"),
        Text(", ".join(map(display_path, meta.paths)) if meta else ""),
    ]


def agent_row(info: CollectionInfo, active: str | None) -> list[Text]:
    """A coding agent's collection: the agent, its completion marker and, when the engine can
    tell, its workspace."""
    roo = info.roo
    assert roo is not None
    workspace = info.workspace
    when = (roo.when or "—").replace("T", " ").replace("+00:00", "Z")
    mine = info.name == active
    return [
        Text(("● " if mine else "  ") + inert(info.name), style="bold" if mine else ""),
        Text(f"{info.points:,}", justify="right"),
        Text(str(roo.dimension), justify="right"),
        Text(roo.distance),
        Text(inert(roo.owner), style="magenta"),  # the agent that wrote it (roo-code, zoo-code, kilo-code)
        Text(info.status),
        Text(roo.state, style="" if roo.indexing_complete else "yellow"),
        _search_cell(info.search_index),
        Text("—", style="dim"),  # the agent keeps its own fresh
        Text(when),
        Text(display_path(workspace) if workspace else "workspace unknown", style="" if workspace else "dim"),
    ]


# -- F2 ----------------------------------------------------------------------------------------
MAX_RUNS_SHOWN = 3


def runs_text(runs: list[Any], followed: str | None) -> Text:
    """Every run the engine has, whoever started it (newest first): the followed one marked."""
    text = Text()
    for r in list(reversed(runs))[:MAX_RUNS_SHOWN]:
        total = r.files_total if r.files_total is not None else "?"
        mark = "▶ " if r.id == followed else "  "
        text.append(mark + f"{r.id} ", style="bold" if r.active else "dim")
        text.append(inert(r.collection))
        done = (
            f"{r.points_written:,}/{r.chunks_total:,} points copied"
            if r.kind == "copy"
            else f"{r.files_done}/{total} files"
        )
        text.append(f"  {r.phase}  {done}", style="cyan" if r.active else "dim")
        text.append(f"  by {inert(r.started_by.split(' ')[0])}\n", style="dim")
    if len(runs) > MAX_RUNS_SHOWN:
        text.append(f"  … {len(runs) - MAX_RUNS_SHOWN} older runs (roocode-tui status)", style="dim")
    return text


def state_text(p: Any) -> Text:
    """The followed run's phase, collection and current file, and how it stands or ended."""
    state = Text()
    if getattr(p, "kind", "") == "plan":  # a dry run (F2's p): nothing embedded or written
        state.append("plan ", style="bold")
    state.append(f"{p.phase} ", style="bold")
    state.append(inert(p.collection))
    if p.current_file and p.active:
        state.append("  ", style="dim")
        state.append(inert(p.current_file), style="cyan")
    if p.rebuild and p.active:
        serving = f"{p.serving_points:,} points" if p.serving_points is not None else "its points"
        state.append(
            f"\nrebuild: the old index ({serving}) answers searches until the new one is complete",
            style="dim",
        )
    if p.waiting:
        state.append("\n⏸ " + inert(p.waiting), style="yellow")
    elif p.message and not p.active:
        ok = p.phase == "done" and (p.switched or not p.rebuild)
        style = "green" if ok else ("yellow" if p.phase in ("cancelled", "done") else "red")
        state.append("\n" + inert(p.message), style=style)
    return state


def rates_text(p: Any) -> Text:
    """Its speed, ETA and time so far."""
    copy = getattr(p, "kind", "index") == "copy"  # points stand where chunks are
    speed = (
        f"{p.chunks_per_s:,.1f} points/s"
        if copy
        else f"{p.chunks_per_s:,.1f} chunks/s · {p.tokens_per_s:,.0f} tokens/s"
    )
    rates = Text(f"{speed} · ETA {fmt_duration(p.eta_s)} · elapsed {fmt_duration(p.elapsed)}")
    return rates


def counters_text(p: Any) -> Text:
    """Its file and chunk counts."""
    counters = Text()
    for label, value, style in (
        ("seen", p.files_seen, ""),
        ("unchanged", p.files_unchanged, "dim"),
        ("indexed", p.files_indexed, "green"),
        ("skipped", p.files_skipped, "yellow"),
        ("failed", p.files_failed, "red"),
        ("deleted", p.files_deleted, ""),
    ):
        counters.append(f"{label} ", style="dim")
        counters.append(f"{value:,}", style=style or "bold")
        counters.append("   ")
    counters.rstrip()
    counters.append("\n")
    counters.append(f"chunks embedded {p.chunks_embedded:,} · {reused_label(p)}")
    counters.append(f" · points written {p.points_written:,}")
    return counters
