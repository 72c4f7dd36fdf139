"""Typed messages: the only way background work reaches widgets."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class BackendStatus(Message):
    """What the app knows about the embedder and the store."""

    def __init__(self, embedder: str, embedder_ok: bool | None, store: str, store_ok: bool | None) -> None:
        super().__init__()
        self.embedder = embedder
        self.embedder_ok = embedder_ok
        self.store = store
        self.store_ok = store_ok


class CollectionsChanged(Message):
    """The list of collections (or their counts) changed: panes reload what they show."""


class IngestUpdate(Message):
    """Progress of the running index run (the same object each time; read it, don't keep it)."""

    def __init__(self, progress: Any) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IngestUpdate)


class IngestFinished(Message):
    def __init__(self, progress: Any, error: str | None) -> None:
        super().__init__()
        self.progress = progress
        self.error = error
