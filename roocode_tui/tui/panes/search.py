"""F1: search as you type, ranked results, a highlighted preview, the whole file on Enter; e opens
$EDITOR at a hit, y copies its path:line (in the results and in the file viewer)."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from roocode_tui.core.display import explain_line, inert
from roocode_tui.tui.panes.pane import Pane
from roocode_tui.tui.widgets.render import code_view, hit_label

DEBOUNCE_S = 0.3
SEARCH_LIMIT = 20


class SearchDone(Message):
    def __init__(self, token: int, result: Any) -> None:
        super().__init__()
        self.token = token
        self.result = result


class ResultList(OptionList):
    """The hits, best first: e and y act on the highlighted one."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("e", "open_editor", "Edit", tooltip="Open $EDITOR at the chunk", id="edit"),
        Binding("y", "copy_location", "Copy path:line", tooltip="Copy path:line (OSC 52)", id="copy"),
    ]

    def action_open_editor(self) -> None:
        hit = self.query_ancestor(SearchPane).selected_hit()
        if hit is not None:
            open_in_editor(self.app, hit)

    def action_copy_location(self) -> None:
        hit = self.query_ancestor(SearchPane).selected_hit()
        if hit is not None:
            copy_location(self.app, hit)


class FileViewer(ModalScreen[None]):
    """The whole file, scrolled to the chunk, its lines marked."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="close"),
        Binding("e", "open_editor", "Edit", id="viewer_edit"),
        Binding("y", "copy_location", "Copy path:line", id="viewer_copy"),
    ]

    def __init__(self, hit: Any, text: str) -> None:
        super().__init__()
        self.hit = hit
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="viewer"):
            title = Text(inert(f"{self.hit.path}  lines {self.hit.start_line}-{self.hit.end_line}"), style="bold")
            yield Static(title, id="viewer-title")
            with VerticalScroll(id="viewer-body"):
                lines = set(range(self.hit.start_line, self.hit.end_line + 1))
                yield Static(code_view(self.text, self.hit.language, 1, lines), id="viewer-code")

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll)

    def _scroll(self) -> None:
        self.query_one("#viewer-body", VerticalScroll).scroll_to(y=max(0, self.hit.start_line - 4), animate=False)

    def action_open_editor(self) -> None:
        open_in_editor(self.app, self.hit)

    def action_copy_location(self) -> None:
        copy_location(self.app, self.hit)


class SearchPane(Pane, Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hits: list[Any] = []
        self._token = 0
        self._focus_results = False
        self.last_search_ms: float | None = None  # the last search's own time (after the debounce)

    def compose(self) -> ComposeResult:
        with Horizontal(id="search-bar"):
            yield Input(placeholder="Search… (path:src/ lang:python work too)", id="query")
            yield Input(placeholder="path prefix or glob", id="path-filter")
            yield Input(placeholder="language", id="lang-filter")
        with Horizontal(id="search-body"):
            yield ResultList(id="results")
            with VerticalScroll(id="preview-pane"):
                yield Static(Text("Type a question or an identifier.", style="dim"), id="preview")
        yield Static("", id="search-info")

    def focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def focus_pane(self) -> None:
        self.focus_query()

    # -- searching ---------------------------------------------------------------------------
    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._hold_ingest()
        self.start_search(debounce=True)

    def _hold_ingest(self) -> None:
        """A search is being typed: running ingests send no new batches until it has answered."""
        self.app.connection.hold_ingest()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._hold_ingest()
        self.start_search(debounce=False)
        self._focus_results = True  # Enter: move to the results once they are in

    def start_search(self, debounce: bool) -> None:
        self._token += 1
        self.run_search(self._token, debounce)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def run_search(self, token: int, debounce: bool) -> None:
        from roocode_tui.core.display import parse_inline_filters

        if debounce:
            await asyncio.sleep(DEBOUNCE_S)
        raw = self.query_one("#query", Input).value
        query, inline_path, inline_lang = parse_inline_filters(raw)
        path = self.query_one("#path-filter", Input).value.strip() or inline_path
        lang = self.query_one("#lang-filter", Input).value.strip() or inline_lang
        if not query:
            return
        engine = await self.app.connection.get_engine()
        collection = self.app.active
        if collection is None:
            return
        started = time.perf_counter()
        (result,) = await engine.search(
            [query], collection, limit=SEARCH_LIMIT, path=path, lang=lang, mode=None, cwd=os.getcwd(), explain=True
        )
        self.last_search_ms = (time.perf_counter() - started) * 1000
        self._hold_ingest()  # the person reads the answer and may refine it
        self.post_message(SearchDone(token, result))

    @on(SearchDone)
    def _show(self, message: SearchDone) -> None:
        if message.token != self._token:
            return  # a newer query was typed: this answer is stale
        focus, self._focus_results = self._focus_results, False
        result = message.result
        self.hits = result.hits
        results = self.query_one("#results", ResultList)
        results.clear_options()
        scores = [h.score for h in result.hits]
        low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
        results.add_options([Option(hit_label(i, h, low, high)) for i, h in enumerate(result.hits, 1)])
        if result.hits:
            results.highlighted = 0
            if focus:
                results.focus()
        else:
            self.query_one("#preview", Static).update(Text("No results.", style="dim"))
        info = Text(f"{len(result.hits)} results from {result.collection} ({result.mode})", style="dim")
        info.append(f" · embed {result.embed_ms:.0f} ms · store {result.store_ms:.0f} ms", style="dim")
        self.query_one("#search-info", Static).update(info)

    @on(OptionList.OptionHighlighted, "#results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        hit = self.selected_hit()
        if hit is not None:
            view: Any = code_view(hit.text, hit.language, hit.start_line)
            if hit.explain:  # why it ranks here: lane ranks and scores, each boost (core/search/ranker.py)
                view = Group(Text("why: " + inert(explain_line(hit.explain)), style="dim"), view)
            self.query_one("#preview", Static).update(view)
            self.query_one("#preview-pane", VerticalScroll).scroll_home(animate=False)

    @on(OptionList.OptionSelected, "#results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.open_file()

    def selected_hit(self) -> Any:
        index = self.query_one("#results", ResultList).highlighted
        if index is None or not 0 <= index < len(self.hits):
            return None
        return self.hits[index]

    def open_file(self) -> None:
        hit = self.selected_hit()
        if hit is None:
            return
        path = Path(hit.root) / hit.path
        try:
            text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        except OSError as exc:
            self.app.notify(inert(f"cannot open {path}: {exc.strerror}"), severity="error", markup=False)
            return
        self.app.push_screen(FileViewer(hit, text))


def open_in_editor(app: App[Any], hit: Any) -> None:
    """Suspend the app, run $EDITOR at the chunk's first line, come back."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    path = str(Path(hit.root) / hit.path)
    command = [*shlex.split(editor), f"+{hit.start_line}", path]
    try:
        with app.suspend():
            subprocess.run(command, check=False)
    except Exception as exc:  # SuspendNotSupported in tests / web, editor missing
        app.notify(inert(f"cannot run {editor}: {exc}"), severity="error", markup=False)


def copy_location(app: App[Any], hit: Any) -> None:
    """The hit's path:line to the clipboard (OSC 52: works over SSH in most terminals)."""
    location = f"{Path(hit.root) / hit.path}:{hit.start_line}"
    app.copy_to_clipboard(location)
    app.notify(inert(f"copied {location}"), markup=False)
