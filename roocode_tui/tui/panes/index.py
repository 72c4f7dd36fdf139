"""F2: start, cancel and rebuild index runs; watch them live. Its keys and the palette start and
cancel runs; F4's R rebuilds through it too (``ask_rebuild``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Label, ProgressBar, RichLog, Select, Static

from roocode_tui.core.display import inert
from roocode_tui.tui.messages import IngestFinished, IngestUpdate
from roocode_tui.tui.panes.pane import Pane
from roocode_tui.tui.panes.rows import counters_text, rates_text, runs_text, state_text

RUNS_POLL_S = 1.0  # how often F2 looks for runs other faces started


class IndexPane(Pane, Vertical):
    """F2. Runs belong to the engine: this pane starts them, follows one at a time (the one
    started here, or the newest one another face started: a CLI in another terminal), lists
    them all and cancels any. The run it follows is ``app.ingest_progress``."""

    BINDINGS = [
        Binding("s", "start_ingest", "Start", tooltip="Index the selected collection", id="start"),
        Binding("c", "cancel_ingest", "Cancel", tooltip="Stop the run (asks first)", id="cancel"),
        Binding("R", "rebuild", "Rebuild", tooltip="Embed every file again, zero downtime (asks first)", id="rebuild"),
        Binding("w", "toggle_watch", "Watch", tooltip="Keep it in sync as its files change (or stop)", id="watch"),
        Binding(
            "p", "plan", "Plan", tooltip="What a run would embed now, after reuse, and its time and cost", id="plan"
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._logged = 0
        self._last: Any = None  # the last progress shown, rendered again when the pane comes into view
        self.followed: str | None = None  # the id of the run being followed
        self._known: set[str] = set()  # the runs of the engine this pane has seen
        self._known_of: Any = None  # ... of this engine (a new engine numbers its runs anew)
        self._opened_at = datetime.now(UTC).replace(microsecond=0).isoformat()  # as the engine writes it
        self.chart: Any = None  # RunChart, once F2 was shown (plotext loads then)

    def compose(self) -> ComposeResult:
        with Horizontal(id="index-bar"):
            yield Select([], prompt="collection", id="index-collection", allow_blank=True)
            yield Button("Start (s)", id="index-start", variant="primary")
            yield Button("Cancel (c)", id="index-cancel", variant="warning")
            yield Button("Rebuild (R)", id="index-rebuild", variant="error")
        yield Static(Text("No index run yet. Pick a collection and press s.", style="dim"), id="index-state")
        with Grid(id="index-bars"):
            yield Label("files")
            yield ProgressBar(id="files-bar", show_eta=False)
            yield Label("chunks")
            yield ProgressBar(id="chunks-bar", show_eta=False)
        yield Static("", id="index-rates")
        yield Static("", id="index-counters")
        yield Static("", id="index-runs")
        with Horizontal(id="index-lower"):
            with Vertical(id="index-log-box"):
                yield Label("errors and skips", classes="section-title")
                yield RichLog(id="index-log", max_lines=1000, markup=False, highlight=False, wrap=False)
            yield Vertical(id="run-chart-box")  # the run's throughput chart, mounted when F2 is first shown

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "index-start":
            self.action_start_ingest()
        elif event.button.id == "index-cancel":
            self.action_cancel_ingest()
        elif event.button.id == "index-rebuild":
            self.action_rebuild()

    def focus_pane(self) -> None:
        self.query_one("#index-collection", Select).focus()

    def target_collection(self) -> str | None:
        return self.selected() or self.app.active

    # -- actions -----------------------------------------------------------------------------
    def action_start_ingest(self, rebuild: bool = False) -> None:
        self.start_ingest(self.target_collection(), rebuild)

    def start_ingest(self, name: str | None, rebuild: bool = False) -> None:
        if self.writes_refused():
            return
        if self.app.ingest_running():
            self.app.notify("an index run is already going (F2)", severity="warning")
            return
        if name is None:
            self.app.notify("pick a collection first (F2 or F4)", severity="warning")
            return
        self.start_run(name, rebuild)
        self.app.action_show_pane("index")

    def action_plan(self) -> None:
        self.plan(self.target_collection())

    def plan(self, name: str | None) -> None:
        """A dry run of ``name``: the files, chunks and tokens a run would embed, time and cost."""
        if self.app.ingest_running():
            self.app.notify("an index run is already going (F2)", severity="warning")
        elif name is None:
            self.app.notify("pick a collection first (F2 or F4)", severity="warning")
        else:
            self.start_run(name, False, dry_run=True)
            self.app.action_show_pane("index")

    def action_rebuild(self) -> None:
        self.ask_rebuild(self.target_collection())

    def ask_rebuild(self, name: str | None) -> None:
        """F2's R, F4's R, the palette: a new index of every file, once confirmed."""
        from roocode_tui.tui.modals import ConfirmModal

        if name is None or self.writes_refused():
            return
        question = (
            f"Rebuild {name!r}? Every file is embedded again into a new index; searches use the current "
            "one until the new one is complete."
        )
        self.app.push_screen(
            ConfirmModal(question, "Rebuild"), lambda ok: self.start_ingest(name, True) if ok else None
        )

    def action_cancel_ingest(self) -> None:
        from roocode_tui.tui.modals import ConfirmModal

        if not self.app.ingest_running():
            self.app.notify("no index run is going", severity="information")
            return
        p = self.app.ingest_progress
        self.app.push_screen(
            ConfirmModal(
                f"Cancel run {p.id} ({p.collection}, started by {p.started_by})? Files written so far stay; "
                "the next run finishes the rest.",
                "Cancel run",
            ),
            lambda ok: self.cancel_run(p.id) if ok else None,
        )

    def action_toggle_watch(self) -> None:
        self.app.collections_pane.toggle_watch(self.target_collection())

    def set_collections(self, names: list[str], active: str | None) -> None:
        select = self.query_one("#index-collection", Select)
        current = active if select.is_blank() else select.value
        select.set_options([(n, n) for n in names])
        if current in names:
            select.value = current

    def selected(self) -> str | None:
        select = self.query_one("#index-collection", Select)
        return None if select.is_blank() else str(select.value)

    # -- runs (workers) ----------------------------------------------------------------------
    @work(group="ingest-start", exclusive=True, exit_on_error=False)
    async def start_run(self, name: str, rebuild: bool, dry_run: bool = False) -> None:
        engine = await self.app.connection.get_engine()
        self.reset()
        snap = await engine.start_run(
            [],
            name,
            rebuild=rebuild,
            schema="native",
            cwd=os.getcwd(),
            started_by=f"tui pid {os.getpid()}",
            dry_run=dry_run,
        )
        self.follow_run(snap.id)

    @work(group="ingest", exclusive=True, exit_on_error=False)
    async def follow_run(self, run_id: str) -> None:
        """Show one run live until it ends (the engine sends a few snapshots a second at most)."""
        from roocode_tui.core.errors import RoocodeError

        app = self.app
        engine = await app.connection.get_engine()
        if self.followed != run_id:
            self.reset()
        self.followed = run_id
        last = None
        try:
            async for snap in engine.follow(run_id):
                last = app.ingest_progress = snap
                self.post_message(IngestUpdate(snap))
        except RoocodeError as exc:
            if last is not None:
                self.post_message(IngestFinished(last, str(exc)))
            return
        if last is not None:
            self.post_message(IngestFinished(last, last.message if last.phase == "failed" else None))

    @work(group="runs", exclusive=True, exit_on_error=False)
    async def watch_runs(self) -> None:
        """List every run of the engine; follow a new one, whoever started it (one that began and
        ended between two looks is shown and announced too)."""
        from roocode_tui.core.errors import EngineGoneError, RoocodeError

        app, connection = self.app, self.app.connection
        if connection.engine is None:  # not connected yet, or lost: connect() finds or starts one
            self.set_timer(RUNS_POLL_S, self.watch_runs)
            return
        try:
            runs = await connection.engine.runs()
        except EngineGoneError as exc:  # noticed within a poll: said, and a fresh engine next time
            connection.lost(exc)
            runs = None
        except RoocodeError:
            runs = None
        if runs is not None:
            self.show_runs(runs, self.followed)
            if self._known_of is not connection.engine:  # a new engine numbers its runs anew
                self._known_of, self._known = connection.engine, set()
                before = [r for r in runs if r.started_at < self._opened_at and not r.active]
                self._known.update(r.id for r in before)
                if before and app.ingest_progress is None:
                    app.ingest_progress = before[-1]  # shown, not announced: it ended before the app opened
                    self.followed = before[-1].id
                    self.show(before[-1])
            new = [r for r in runs if r.id not in self._known]  # started since, even if already over
            self._known.update(r.id for r in runs)
            active = [r for r in runs if r.active]
            following = app.ingest_progress is not None and app.ingest_progress.active
            target = active[-1] if active else (new[-1] if new else None)
            if target is not None and not following and target.id != self.followed:
                self.follow_run(target.id)
            if self.chart is not None and self.followed and self.is_on_screen:
                await self.load_rates(connection.engine, self.followed)
        self.set_timer(RUNS_POLL_S, self.watch_runs)

    async def load_rates(self, engine: Any, run_id: str) -> None:
        """The followed run's throughput since its start and the embedder's best recent rate,
        from the engine (engine/sampler.py keeps them)."""
        from roocode_tui.core.errors import RoocodeError

        try:
            history = await engine.history("1h", run_id, names=[])
        except RoocodeError:
            return  # the run was forgotten, or the engine went: the next poll sees it
        if run_id == self.followed:
            self.show_rates(history)

    def show_rates(self, history: dict[str, Any]) -> None:
        if self.chart is not None:
            self.chart.show(history.get("run"), history.get("best_tokens_per_s"))

    @work(group="ingest-cancel", exit_on_error=False)
    async def cancel_run(self, run_id: str) -> None:
        await (await self.app.connection.get_engine()).cancel(run_id)

    @on(IngestUpdate)
    def _progress(self, message: IngestUpdate) -> None:
        self.show(message.progress)  # and the message goes on to the app (status bar, F4)

    @on(IngestFinished)
    def _finished(self, message: IngestFinished) -> None:
        """Say how the run ended (the message goes on to the app: status bar, F4, the collections)."""
        from roocode_tui.core.memory import release_freed_memory

        p = message.progress
        self.show(p)
        if self.app.panes_gone():
            return
        release_freed_memory()  # a run frees hundreds of MB that malloc would keep (bench/soak.py)
        if message.error:
            self.app.notify(inert(message.error), title="index run failed", severity="error", markup=False, timeout=10)
        elif p.phase == "cancelled":
            self.app.notify(inert(f"{p.collection}: cancelled after {p.files_indexed} files"), markup=False)
        elif getattr(p, "kind", "") == "plan":
            self.app.notify(inert(f"{p.collection}: {p.message}"), title="plan", markup=False, timeout=10)
        else:
            self.app.notify(
                inert(
                    f"{p.collection}: {p.files_indexed} indexed, {p.files_unchanged} unchanged, {p.files_failed} failed"
                ),
                markup=False,
                severity="warning" if p.files_failed else "information",
            )
        self.watch_runs()  # the run list shows the outcome now, not at the next poll

    # -- rendering ---------------------------------------------------------------------------
    def show_runs(self, runs: list[Any], followed: str | None) -> None:
        """Every run the engine has, whoever started it (newest first): the one shown above is marked."""
        text = runs_text(runs, followed)
        self.query_one("#index-runs", Static).update(text)

    def reset(self) -> None:
        self._logged = 0
        self._last = None
        self.query_one("#index-log", RichLog).clear()

    def on_show(self) -> None:
        if self.chart is None:
            from roocode_tui.tui.widgets.charts import RunChart  # plotext: only once F2 is shown

            self.chart = RunChart(id="run-chart")
            self.query_one("#run-chart-box", Vertical).mount(self.chart)
            self.chart.show(None, None)
        if self._last is not None:
            self.call_after_refresh(self.show, self._last)

    def show(self, p: Any) -> None:
        """Render one progress snapshot (called at most a few times a second)."""
        self._last = p
        with self.app.batch_update():
            state = state_text(p)
            self.query_one("#index-state", Static).update(state)
            self.query_one("#files-bar", ProgressBar).update(total=p.files_total, progress=p.files_done)
            self.query_one("#chunks-bar", ProgressBar).update(
                total=p.chunks_total if p.discovery_done else None, progress=p.chunks_done
            )
            rates = rates_text(p)
            self.query_one("#index-rates", Static).update(rates)
            counters = counters_text(p)
            self.query_one("#index-counters", Static).update(counters)
            log = self.query_one("#index-log", RichLog)
            if log.size.width == 0:
                # Never shown yet: RichLog would hold every write (unbounded) until it has a size.
                # The entries wait in p.log (bounded) and are written when the pane comes into view.
                return
            entries = list(p.log)
            total = len(entries)
            # p.log is a bounded deque: show what arrived since the last render
            new = entries[max(0, total - max(0, (p.files_failed + p.files_skipped + p.dirs_skipped) - self._logged)) :]
            for item in new:
                line = Text("✗ " if item.kind == "error" else "· ", style="red" if item.kind == "error" else "dim")
                line.append(inert(item.path), style="bold")
                line.append("  " + inert(item.reason))
                log.write(line)
            self._logged = p.files_failed + p.files_skipped + p.dirs_skipped
