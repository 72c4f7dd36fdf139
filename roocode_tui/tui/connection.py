"""The app's engine (roocode_tui/engine): the background engine's client, found or started in a
worker after the first frame (the first frame never waits for it), or an engine made in this
process when the engine is off (``engine.enabled = false``, ``--no-engine``). Both answer the
same calls (engine/api.py): a pane asks ``app.connection.get_engine()`` and does not
care which it has.

``connect()`` checks the engine, the embedder and the store, and tries again every few seconds
while one is down; ``watch()`` holds the engine's watch stream, whose end is the engine's death;
``lost()`` says so and lets the next call find or start a fresh engine. An engine in this
process ends with the app: ``quit()`` asks before it stops a run there. The workers are the
app's (groups ``connect``, ``engine-watch``, ``engine-close``, ``hold``, ``ingest-cancel``): the
app's one handler shows their errors."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from roocode_tui.core.display import inert
from roocode_tui.tui.messages import BackendStatus, CollectionsChanged

if TYPE_CHECKING:
    from roocode_tui.core.config import Settings
    from roocode_tui.tui.app import RoocodeApp

RETRY_S = 5.0  # reconnect period while a backend is down
HOLD_EVERY_S = 0.5  # a person typing a search holds ingest batches back, re-sent at most this often


class EngineConnection:
    def __init__(self, app: RoocodeApp, gpu_reader: Callable[[], tuple[list[Any], str]] | None = None) -> None:
        """``gpu_reader``: what an engine made in this process reads the GPUs with (NVML or
        nvidia-smi by default; tests and benchmarks give their own)."""
        self.app = app
        self.gpu_reader = gpu_reader
        self.engine: Any = None  # engine.api.Engine: the background engine's client, or one in this process
        self._lock = asyncio.Lock()
        self._held_at = 0.0

    async def get_engine(self) -> Any:
        """The engine: found or started in the background, or made in this process when the
        engine is off."""
        async with self._lock:
            if self.engine is None:
                settings = self.app.settings
                if settings.engine.enabled:
                    from roocode_tui.engine.client import connect

                    self.engine = await connect(settings)
                else:
                    from roocode_tui.engine.local import LocalEngine

                    self.engine = LocalEngine(settings, gpu_reader=self.gpu_reader)
        return self.engine

    @property
    def in_process(self) -> bool:
        from roocode_tui.engine.local import LocalEngine

        return isinstance(self.engine, LocalEngine)

    def lost(self, error: Exception) -> None:
        """The background engine stopped answering (killed, crashed): say so, and let the next
        call find or start a fresh one (runs resume there as after any interruption)."""
        if self.engine is None or self.in_process:
            return
        app = self.app
        engine, self.engine = self.engine, None
        app.run_worker(engine.aclose(), group="engine-close", exit_on_error=False)
        app.status.store = (f"engine: {error}", False)
        app.status.refresh_bar()
        app.notify(inert(str(error)), title="engine", severity="error", markup=False, timeout=10)
        app.set_timer(RETRY_S, self.connect)

    def quit(self) -> None:
        """Runs belong to the engine and go on when the app closes; an engine in this process
        ends with the app, so a run there is stopped (after asking)."""
        from roocode_tui.tui.modals import ConfirmModal

        app = self.app
        if not (self.in_process and app.ingest_running()):
            app.exit(0)
            return
        question = ConfirmModal("An index run is going. Stop it and quit?", "Stop and quit")
        app.push_screen(question, lambda ok: self._stop_and_quit() if ok else None)

    def _stop_and_quit(self) -> None:
        self.app.run_worker(self._stop_run_and_quit, name="_stop_and_quit", group="ingest-cancel", exit_on_error=False)

    async def _stop_run_and_quit(self) -> None:
        if self.app.ingest_progress is not None:
            await self.engine.cancel(self.app.ingest_progress.id)
        self.app.exit(0)

    async def close(self) -> None:
        """The app closes: an engine in this process stops its runs; a client just hangs up."""
        if self.engine is not None:
            await self.engine.aclose()

    def hold_ingest(self) -> None:
        """A search is being typed: every run sends no new batches for a moment."""
        now = time.monotonic()
        if self.engine is not None and now - self._held_at > HOLD_EVERY_S:
            self._held_at = now
            self.app.run_worker(self._hold, name="_hold", group="hold", exclusive=True, exit_on_error=False)

    async def _hold(self) -> None:
        await self.engine.hold_ingest(self.app.settings.tui.search_holds_ingest_s)

    def connect(self) -> None:
        """Check the engine, the embedder and the store; retry every few seconds while one is down."""
        self.app.run_worker(self._connect, name="connect", group="connect", exclusive=True, exit_on_error=False)

    async def _connect(self) -> None:
        from roocode_tui.core.errors import RoocodeError

        app, settings = self.app, self.app.settings
        backend = settings.store.backend
        try:
            engine = await self.get_engine()
        except RoocodeError as exc:
            app.post_message(BackendStatus(settings.embedder.model, None, f"engine: {exc}", False))
            app.set_timer(RETRY_S, self.connect)
            return
        emb_label = settings.embedder.model
        emb_ok: bool | None = True
        if settings.embedder.provider == "openai":
            emb_ok, why = await _embedder_reachable(settings)
            if not emb_ok:
                emb_label = f"{emb_label}: {why}"
        store_label = f"store {backend}"
        store_ok: bool | None = True
        try:
            names = [c.name for c in await engine.collections()]
            if not app.active_chosen or app.active is None:
                try:
                    app.active = await engine.resolve_collection(app.active, os.getcwd())
                except RoocodeError as exc:
                    app.active = None
                    store_label = f"store {backend}: {exc}"
            elif app.active not in names:
                store_label = f"store {backend}: collection {app.active!r} does not exist yet"
        except RoocodeError as exc:
            store_ok = False
            store_label = f"store {backend}: {exc}"
        if emb_ok and settings.embedder.provider != "openai":
            status = await engine.status()
            emb_label = status["embedder"].get("model_id") or emb_label
        app.post_message(BackendStatus(emb_label, emb_ok, store_label, store_ok))
        app.post_message(CollectionsChanged())
        if not self.in_process:
            self.watch(engine)
        if not (emb_ok and store_ok):
            app.set_timer(RETRY_S, self.connect)

    def watch(self, engine: Any) -> None:
        """Hold the engine's watch stream: its end is the engine's death, noticed at once."""
        work = partial(self._watch, engine)
        self.app.run_worker(work, name="watch_engine", group="engine-watch", exclusive=True, exit_on_error=False)

    async def _watch(self, engine: Any) -> None:
        from roocode_tui.core.errors import EngineGoneError
        from roocode_tui.engine.watch import behind_line

        app = self.app
        seen = None
        try:
            async for beat in engine.watch():
                shown = (beat.get("index"), beat.get("watch"))
                if seen is not None and shown != seen:  # a search index or a watcher moved on
                    app.post_message(CollectionsChanged())
                seen = shown
                state, pending = (beat.get("watch") or {}).get(app.active or "", ["", 0])
                behind = behind_line(state, pending)
                if behind != app.status.behind and not app.panes_gone():
                    app.status.behind = behind
                    app.status.refresh_bar()
        except EngineGoneError as exc:
            if self.engine is engine:
                self.lost(exc)


async def _embedder_reachable(settings: Settings) -> tuple[bool, str]:
    import httpx

    cfg = settings.embedder
    key = cfg.api_key.get_secret_value() if cfg.api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=3.0, headers=headers, verify=cfg.tls_verify_arg) as http:
            resp = await http.get(f"{cfg.base_urls[0]}/models")
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    if resp.status_code in (401, 403):
        return False, "API key refused"
    if resp.status_code != 200:
        return False, f"HTTP {resp.status_code}"
    return True, ""
