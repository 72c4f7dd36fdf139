"""The Textual app. ``create_app(settings)`` builds it for the CLI and the tests alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from roocode_tui.core.config import Settings
from roocode_tui.core.text import inert

CSS_FILE = Path(__file__).resolve().parent.parent / "styles" / "app.tcss"
if not CSS_FILE.exists():  # running from a source checkout
    CSS_FILE = Path(__file__).resolve().parents[2] / "styles" / "app.tcss"

DEBOUNCE_S = 0.3


class SearchDone(Message):
    def __init__(self, query: str, result: Any) -> None:
        super().__init__()
        self.query = query
        self.result = result


class StatusChanged(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def hit_label(rank: int, hit: Any) -> Text:
    """One line of the result list: rank, score bar, path:start-end, heading or first line."""
    filled = max(0, min(8, round(hit.score * 8)))
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{rank:>2} ", style="bold")
    label.append("█" * filled + "░" * (8 - filled), style="green")
    label.append(f" {hit.score:.3f} ", style="green")
    label.append(inert(f"{hit.path}:{hit.start_line}-{hit.end_line}"), style="bold")
    first = hit.heading or next((ln.strip() for ln in hit.text.splitlines() if ln.strip()), "")
    if first:
        label.append("  " + inert(first[:80]), style="dim")
    return label


def preview(hit: Any) -> Syntax:
    return Syntax(
        inert(hit.text),
        lexer=hit.language if hit.language not in ("", "text") else "text",
        line_numbers=True,
        start_line=hit.start_line,
        word_wrap=False,
        theme="ansi_dark",
    )


class RoocodeApp(App[int]):
    TITLE = "roocode-tui"
    CSS_PATH = str(CSS_FILE)
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit"),
        Binding("escape", "focus_query", "Query", show=False, id="focus_query"),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(self, settings: Settings, collection: str | None = None):
        super().__init__()
        self.settings = settings
        self.collection = collection
        self._store: Any = None
        self._embedder: Any = None
        self._hits: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search… (path:src/ lang:python filter; Enter to search)", id="query")
        with Horizontal(id="body"):
            yield OptionList(id="results")
            with VerticalScroll(id="preview-pane"):
                yield Static(Text("No results yet.", style="dim"), id="preview")
        yield Static(Text("starting…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self.connect()

    # -- backends (opened in a worker, never before the first paint) -------------------------
    @work(group="connect", exclusive=True, exit_on_error=False)
    async def connect(self) -> None:
        from roocode_tui.core.service import open_backends, resolve_search_collection

        self._store, self._embedder = open_backends(self.settings)
        try:
            self.collection = await resolve_search_collection(self.settings, self._store, self.collection)
        except Exception as exc:
            self.post_message(StatusChanged(f"{exc}"))
            return
        points = await self._store.count(self.collection)
        self.post_message(
            StatusChanged(
                f"collection {self.collection} ({points} points) · {self._embedder.describe()} · "
                f"store {self._store.backend}"
            )
        )

    @on(StatusChanged)
    def _status(self, message: StatusChanged) -> None:
        self.query_one("#status", Static).update(Text(inert(message.text)))

    # -- search ------------------------------------------------------------------------------
    @on(Input.Changed, "#query")
    def _typed(self, event: Input.Changed) -> None:
        self.run_search(event.value, debounce=True)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        self.run_search(event.value, debounce=False)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def run_search(self, raw: str, debounce: bool = True) -> None:
        import asyncio

        from roocode_tui.core.search import parse_inline_filters, search

        if debounce:
            await asyncio.sleep(DEBOUNCE_S)
        query, path, lang = parse_inline_filters(raw)
        if not query or self._store is None or self.collection is None:
            return
        result = await search(self._store, self._embedder, self.collection, query, limit=20, path=path, lang=lang)
        if self.query_one("#query", Input).value == raw:  # drop stale answers
            self.post_message(SearchDone(raw, result))

    @on(SearchDone)
    def _show(self, message: SearchDone) -> None:
        result = message.result
        self._hits = result.hits
        results = self.query_one("#results", OptionList)
        results.clear_options()
        results.add_options([Option(hit_label(i, h)) for i, h in enumerate(result.hits, 1)])
        if result.hits:
            results.highlighted = 0
        else:
            self.query_one("#preview", Static).update(Text("No results.", style="dim"))
        self.query_one("#status", Static).update(
            Text(
                inert(
                    f"{len(result.hits)} results in {self.collection} · embed {result.embed_ms:.0f} ms"
                    f" · store {result.store_ms:.0f} ms"
                )
            )
        )

    @on(OptionList.OptionHighlighted, "#results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = event.option_index
        if 0 <= index < len(self._hits):
            self.query_one("#preview", Static).update(preview(self._hits[index]))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(inert(str(event.worker.error)), title="error", severity="error", markup=False)

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def action_cursor(self, direction: str) -> None:
        results = self.query_one("#results", OptionList)
        if self.focused is results:
            results.action_cursor_down() if direction == "down" else results.action_cursor_up()

    async def on_unmount(self) -> None:
        if self._embedder is not None:
            await self._embedder.aclose()
        if self._store is not None:
            await self._store.close()


def create_app(settings: Settings, collection: str | None = None) -> RoocodeApp:
    return RoocodeApp(settings, collection=collection)
